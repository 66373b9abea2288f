/**
 * `mailgate db status` and `mailgate db migrate` through the built CLI, on a real SQLite file and a private
 * PostgreSQL cluster: status changes nothing (not even a missing file or an unmigrated database), migrate is
 * idempotent, a database newer than the code is named as such, and no output ever holds the password.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';
import { dbCli, expectNoPassword, json } from './db-cli.js';
import { assertBuilt } from './harness.js';

const { tmp, outputs, mg } = dbCli('mailgate-e2e-dbstatus-', 30_000);

beforeAll(() => assertBuilt());
afterAll(() => tmp.cleanup());

describe('mailgate db status | migrate on SQLite', { timeout: 60_000 }, () => {
  it('status of a file that does not exist says so and creates nothing; migrate twice', async () => {
    const db = tmp.file('sub/fresh.db');
    expect(json(await mg(['db', 'status', '--db', db, '--json']))).toEqual({
      backend: 'sqlite',
      location: db,
      schema_version: 0,
      code_schema_version: 8,
      state: 'needs_migrate',
      counts: null,
    });
    expect(existsSync(db)).toBe(false);
    expect(json(await mg(['db', 'migrate', '--db', db, '--json']))).toEqual({ backend: 'sqlite', location: db, from: 0, to: 8 });
    expect(json(await mg(['db', 'migrate', '--db', db, '--json']))).toMatchObject({ from: 8, to: 8 });
    const again = await mg(['db', 'migrate', '--db', db]);
    expect(again.stdout).toBe(`${db}: already at schema 8, nothing to do\n`);
    // migrate opens no app: the config's mailboxes are not created.
    expect(json(await mg(['db', 'status', '--db', db, '--json']))).toMatchObject({
      schema_version: 8,
      state: 'up_to_date',
      counts: { mailboxes: 0, messages: {}, audit_events: 0 },
    });
  });

  it('status counts what real use made, and --verify walks the chain', async () => {
    const db = tmp.file('used.db');
    expect((await mg(['mailbox', 'create', 'ops@mailgate.test', '--db', db])).code).toBe(0);
    const s = json<{ counts: { mailboxes: number; audit_events: number }; audit: { ok: boolean; events: number } }>(
      await mg(['db', 'status', '--verify', '--db', db, '--json']),
    );
    expect(s.counts.mailboxes).toBe(3); // the sandbox's two and ours
    expect(s.audit).toMatchObject({ ok: true, events: s.counts.audit_events });
    const text = await mg(['db', 'status', '--verify', '--db', db]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^backend {4}sqlite\nlocation {3}\S+used\.db\nschema {5}8 \(this mailgate: 8\): up to date\nmailboxes {2}3\n/);
    expect(text.stdout).toMatch(/\nchain {6}ok, \d+ events; head seq \d+ hash [0-9a-f]{64}\n$/);
  });

  it('refuses what it does not take', async () => {
    const db = tmp.file('flags.db');
    const foreign = await mg(['db', 'migrate', '--verify', '--db', db]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain("'mailgate db migrate' does not take --verify");
    const unknown = await mg(['db', 'vacuum', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown subcommand 'vacuum'; use status, migrate or copy");
    expect(existsSync(db)).toBe(false);
  });
});

describe.skipIf(!requirePostgresOrSkip())('mailgate db status | migrate on PostgreSQL', { timeout: 60_000 }, () => {
  let cluster: Postgres;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const masked = (url: string) => url.replace(`:${encodeURIComponent(cluster.password)}@`, ':***@');
  /** Whether the database has mailgate's meta table: status must not have created it. */
  const hasMeta = async (url: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query("SELECT to_regclass('meta') IS NOT NULL AS present")).rows[0].present as boolean;
    } finally {
      await c.end();
    }
  };

  it('status does not migrate; migrate goes 0 to the current version once, then finds nothing to do; the password is never shown', async () => {
    const url = await cluster.freshDatabase();
    const before = json(await mg(['db', 'status', '--db', url, '--json']));
    expect(before).toEqual({ backend: 'postgres', location: masked(url), schema_version: 0, code_schema_version: 5, state: 'needs_migrate', counts: null });
    expect(await hasMeta(url)).toBe(false);
    const text = await mg(['db', 'status', '--db', url]);
    expect(text.stdout).toContain("schema     none (this mailgate: 5): needs migrate: run 'mailgate db migrate'");

    expect(json(await mg(['db', 'migrate', '--json'], { MAILGATE_DATABASE_URL: url }))).toEqual({ backend: 'postgres', location: masked(url), from: 0, to: 5 });
    expect((await mg(['db', 'migrate', '--db', url])).stdout).toBe(`${masked(url)}: already at schema 5, nothing to do\n`);
    const after = json(await mg(['db', 'status', '--verify', '--db', url, '--json']));
    expect(after).toEqual({
      backend: 'postgres',
      location: masked(url),
      schema_version: 5,
      code_schema_version: 5,
      state: 'up_to_date',
      counts: { mailboxes: 0, messages: {}, audit_events: 0 },
      audit: { ok: true, events: 0, head: null },
    });
  });

  it('names a database newer than this mailgate, and migrate refuses it untouched', async () => {
    const url = await cluster.freshDatabase();
    json(await mg(['db', 'migrate', '--db', url, '--json']));
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query("UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    await c.end();
    const s = await mg(['db', 'status', '--db', url]);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('schema     99 (this mailgate: 5): newer than this mailgate: upgrade mailgate');
    const m = await mg(['db', 'migrate', '--db', url]);
    expect(m.code).toBe(3);
    expect(m.stderr).toMatch(/STORE_TOO_NEW: the database is at schema version 99/);
  });

  it('a wrong password is reported without the URL', async () => {
    const url = (await cluster.freshDatabase()).replace(encodeURIComponent(cluster.password), 'not-the-password');
    const r = await mg(['db', 'status', '--db', url]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('STORE_AUTH_FAILED');
    expect(r.stderr).not.toContain('not-the-password');
  });

  it('no output of any run held the password', () => {
    expectNoPassword(outputs, cluster.password, 10);
  });
});
