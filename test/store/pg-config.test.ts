/** From a postgres:// URL and options to pg's pool config: the server's description, the pool, and TLS. */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { pgPoolConfig } from '../../src/store/sql/pg-config.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const ca = tmp.file('ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n');
const ssl = (url: string, opt?: Parameters<typeof pgPoolConfig>[1]) => pgPoolConfig(url, opt).config.ssl;

describe('the URL', () => {
  it('gives the server to name in messages, without the password', () => {
    const { target, password, config } = pgPoolConfig('postgresql://mg:p%40ss%2Fw@db.internal:6543/mail?application_name=x', { poolSize: 3 });
    expect(target).toEqual({ host: 'db.internal', port: 6543, database: 'mail', user: 'mg' });
    expect(password).toBe('p@ss/w');
    expect(config).toMatchObject({ max: 3, connectionTimeoutMillis: 10_000, ssl: false });
    expect(config.connectionString).toContain('application_name=x');
  });

  it('defaults the port, and the database to the user', () => {
    expect(pgPoolConfig('postgres://mg@localhost').target).toEqual({ host: 'localhost', port: 5432, database: 'mg', user: 'mg' });
  });

  it('refuses another scheme', () => {
    expect(() => pgPoolConfig('mysql://u:pw@h/db')).toThrow(/scheme 'mysql:' is not postgres/);
  });
});

describe('TLS, as libpq reads sslmode', () => {
  it('is off without sslmode or options, and with sslmode=disable', () => {
    expect(ssl('postgres://h/db')).toBe(false);
    expect(ssl('postgres://h/db?sslmode=disable')).toBe(false);
    expect(ssl('postgres://h/db', { ssl: false })).toBe(false);
  });

  it('verify-full checks chain and name; verify-ca the chain only; require nothing, unless given a CA', () => {
    expect(ssl('postgres://h/db?sslmode=verify-full')).toEqual({});
    const verifyCa = ssl('postgres://h/db?sslmode=verify-ca') as { checkServerIdentity: () => unknown };
    expect(verifyCa.checkServerIdentity()).toBeUndefined();
    expect(ssl('postgres://h/db?sslmode=require')).toEqual({ rejectUnauthorized: false });
    expect(ssl(`postgres://h/db?sslmode=require&sslrootcert=${ca}`)).toMatchObject({ ca: expect.stringContaining('fake') });
    expect(ssl(`postgres://h/db?sslmode=require&sslrootcert=${ca}`)).not.toHaveProperty('rejectUnauthorized');
    expect(ssl('postgres://h/db?sslmode=no-verify')).toEqual({ rejectUnauthorized: false });
  });

  it('lays the ssl option over the URL', () => {
    expect(ssl('postgres://h/db', { ssl: true })).toEqual({});
    expect(ssl('postgres://h/db', { ssl: { ca: 'X', servername: 'db' } })).toEqual({ ca: 'X', servername: 'db' });
    expect(ssl('postgres://h/db?sslmode=require', { ssl: { ca: 'X' } })).toMatchObject({ ca: 'X' });
    expect(ssl('postgres://h/db?sslmode=require', { ssl: { ca: 'X' } })).not.toHaveProperty('rejectUnauthorized');
    expect(ssl('postgres://h/db?sslmode=require', { ssl: { rejectUnauthorized: true } })).toEqual({ rejectUnauthorized: true });
  });

  it('takes the sslmode parameters out of the string pg parses (pg reads them differently)', () => {
    const { config } = pgPoolConfig(`postgres://h/db?sslmode=require&sslrootcert=${ca}&x=1`);
    expect(config.connectionString).toBe('postgres://h/db?x=1');
  });

  it('refuses what would silently fall back to plaintext, contradictions, unknown modes and unreadable files', () => {
    expect(() => ssl('postgres://h/db?sslmode=prefer')).toThrow(/CONFIG|falls back/);
    expect(() => ssl('postgres://h/db?sslmode=allow')).toThrow(/falls back/);
    expect(() => ssl('postgres://h/db?sslmode=disable', { ssl: { ca: 'X' } })).toThrow(/sslmode=disable but TLS options/);
    expect(() => ssl('postgres://h/db?sslmode=sure')).toThrow(/unknown sslmode 'sure'/);
    expect(() => ssl('postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem')).toThrow(/sslrootcert=\/nonexistent\/ca.pem.*ENOENT/);
  });
});
