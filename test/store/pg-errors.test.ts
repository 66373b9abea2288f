/**
 * What an operator sees when PostgreSQL cannot be used: a catalogued code, the server named (host, port,
 * database, user) and the fix, and never the password, in the message, the details, the stack or the JSON.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailgateError } from '../../src/errors.js';
import { PgDriver } from '../../src/store/sql/pg-driver.js';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';

function expectNoSecret(err: unknown, ...secrets: string[]) {
  expect(err).toBeInstanceOf(MailgateError);
  const e = err as MailgateError;
  for (const s of secrets) {
    for (const text of [e.message, String(e.stack), JSON.stringify(e), JSON.stringify(e.details), JSON.stringify(e, Object.getOwnPropertyNames(e))]) {
      expect(text).not.toContain(s);
    }
  }
}

const withPassword = (url: string, password: string) => {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
};

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!requirePostgresOrSkip())('PostgreSQL failures become catalogued errors without the password', () => {
  let cluster: Postgres;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a wrong password: STORE_AUTH_FAILED, naming the server and user', async () => {
    const wrong = 'Wrong-Secret-42';
    const err = await PgDriver.open(withPassword(cluster.url, wrong)).catch((e) => e);
    expect(err).toMatchObject({ code: 'STORE_AUTH_FAILED', retryable: false, details: { host: '127.0.0.1', port: cluster.port, user: 'mailgate' } });
    expect(err.message).toContain(`127.0.0.1:${cluster.port}, database 'postgres' as user 'mailgate'`);
    expectNoSecret(err, wrong, cluster.password);
  });

  it('nothing listening: STORE_UNREACHABLE, retryable', async () => {
    const port = await closedPort();
    const err = await PgDriver.open(`postgres://mailgate:${cluster.password}@127.0.0.1:${port}/x`).catch((e) => e);
    expect(err).toMatchObject({ code: 'STORE_UNREACHABLE', retryable: true });
    expect(err.message).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*connection refused`));
    expectNoSecret(err, cluster.password);
  });

  it('a database that does not exist: STORE_NO_DATABASE', async () => {
    const u = new URL(cluster.url);
    u.pathname = '/no_such_db';
    const err = await PgDriver.open(u.toString()).catch((e) => e);
    expect(err).toMatchObject({ code: 'STORE_NO_DATABASE', details: { database: 'no_such_db' } });
    expect(err.message).toContain("the database 'no_such_db' does not exist");
    expectNoSecret(err, cluster.password);
  });

  it('no connection slot left: STORE_BUSY', async () => {
    const password = 'Limited-Pw-77';
    await cluster.admin(`CREATE ROLE limited LOGIN PASSWORD '${password}' CONNECTION LIMIT 1`);
    const u = new URL(await cluster.freshDatabase());
    u.username = 'limited';
    u.password = password;
    const d = new PgDriver(u.toString(), { poolSize: 2 });
    try {
      let release!: () => void;
      let started!: () => void;
      const holding = new Promise<void>((r) => (started = r));
      const tx = d.tx(async () => {
        started();
        await new Promise<void>((r) => (release = r));
      });
      await holding;
      const err = await d
        .read((q) => q.value('SELECT 1'))
        .then(
          () => undefined,
          (e: MailgateError) => e,
        );
      release();
      await tx;
      expect(err).toMatchObject({ code: 'STORE_BUSY', retryable: true });
      expect(err?.message).toMatch(/too many clients/);
      expectNoSecret(err, password);
    } finally {
      await d.close();
    }
  });

  it('a URL that does not parse: CONFIG_INVALID, quoting nothing of it', () => {
    const secret = 'Secret-pw-9';
    const attempt = () => new PgDriver(`postgres://u:${secret}@[bad/db`);
    expect(attempt).toThrow(MailgateError);
    const err = (() => {
      try {
        attempt();
      } catch (e) {
        return e as MailgateError;
      }
    })();
    expect(err).toMatchObject({ code: 'CONFIG_INVALID', field: 'database' });
    expectNoSecret(err, secret);
  });

  it('TLS asked of a server without it: STORE_TLS_FAILED; a plaintext fallback (sslmode=prefer) is refused', async () => {
    const err = await PgDriver.open(`${cluster.url}?sslmode=require`).catch((e) => e);
    expect(err).toMatchObject({ code: 'STORE_TLS_FAILED' });
    expectNoSecret(err, cluster.password);
    expect(() => new PgDriver(`${cluster.url}?sslmode=prefer`)).toThrow(/falls back to an unencrypted connection/);
  });

  it('idle connections the server closed are replaced: the next transactions just work', async () => {
    const url = await cluster.freshDatabase();
    const d = new PgDriver(url, { poolSize: 3 });
    try {
      await Promise.all([1, 2, 3].map((n) => d.tx((q) => q.value('SELECT ?::int', [n]))));
      const killed = await cluster.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'mailgate'", [
        new URL(url).pathname.slice(1),
      ]);
      expect(killed.rowCount).toBe(3);
      expect(await Promise.all([1, 2, 3].map((n) => d.tx((q) => q.value('SELECT ?::int', [n]))))).toEqual([1, 2, 3]);
      await cluster.admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'mailgate'", [
        new URL(url).pathname.slice(1),
      ]);
      expect(await Promise.all([1, 2, 3].map((n) => d.read((q) => q.value('SELECT ?::int', [n]))))).toEqual([1, 2, 3]);
    } finally {
      await d.close();
    }
  });

  it('a connection killed mid-transaction: STORE_UNREACHABLE, and the pool carries on with a new connection', async () => {
    const d = new PgDriver(await cluster.freshDatabase(), { poolSize: 1 });
    try {
      const err = await d.tx((q) => q.value('SELECT pg_terminate_backend(pg_backend_pid())')).catch((e) => e);
      expect(err).toMatchObject({ code: 'STORE_UNREACHABLE' });
      expectNoSecret(err, cluster.password);
      expect(await d.tx((q) => q.value('SELECT 2'))).toBe(2);
      expect(await d.read((q) => q.value('SELECT 3'))).toBe(3);
    } finally {
      await d.close();
    }
  });
});
