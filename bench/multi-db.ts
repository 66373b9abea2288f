/**
 * The databases of the multi-instance bench (bench/postgres.ts): the private cluster made durable, the raw
 * baseline's table in PostgreSQL, and what the instances left behind, read back with plain SQL.
 */
import pg from 'pg';
import type { Postgres } from '../test/helpers/postgres.js';
import { openRaw } from './raw.js';

/** The test helper's cluster throws its data away and so skips fsync; the bench measures durable commits. */
export async function durable(pgc: Postgres): Promise<void> {
  for (const s of ['fsync = on', 'synchronous_commit = on', 'full_page_writes = on']) await pgc.admin(`ALTER SYSTEM SET ${s}`);
  await pgc.admin('SELECT pg_reload_conf()');
  // The reload is a signal: existing backends take it before their next statement, new ones at start.
  for (let i = 0; ; i++) {
    const { rows } = await pgc.admin("SELECT current_setting('fsync') AS f, current_setting('synchronous_commit') AS s");
    if (rows[0].f === 'on' && rows[0].s === 'on') return;
    if (i > 40) throw new Error(`PostgreSQL still runs with fsync=${rows[0].f}, synchronous_commit=${rows[0].s} after the reload`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** raw.ts's baseline table in PostgreSQL types. */
export async function createPgBaselineTable(url: string): Promise<void> {
  await withPg(url, (c) =>
    c.query(`CREATE TABLE messages (
        message_id TEXT PRIMARY KEY, mailbox TEXT NOT NULL, status TEXT NOT NULL, to_addrs TEXT NOT NULL,
        subject TEXT NOT NULL, text_body TEXT, created_at BIGINT NOT NULL, expires_at BIGINT, updated_at BIGINT NOT NULL);
      CREATE INDEX messages_pending ON messages (created_at, message_id) WHERE status = 'pending'`),
  );
}

/** mailgate's messages by status and its audit events, in a PostgreSQL database (a URL) or a SQLite file. */
export async function countRows(database: string): Promise<{ statuses: Record<string, number>; audit_events: number }> {
  const STATUSES = 'SELECT status, count(*)::int AS n FROM messages GROUP BY status';
  const EVENTS = 'SELECT count(*)::int AS n FROM audit_events';
  const toMap = (rows: { status: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.status, r.n]));
  if (database.startsWith('postgres')) {
    return withPg(database, async (c) => ({
      statuses: toMap((await c.query(STATUSES)).rows),
      audit_events: (await c.query(EVENTS)).rows[0].n as number,
    }));
  }
  const db = openRaw(database);
  try {
    // SQLite has no ::int cast; its count is an integer already.
    const strip = (sql: string) => sql.replace('::int', '');
    return {
      statuses: toMap(db.prepare(strip(STATUSES)).all() as { status: string; n: number }[]),
      audit_events: db.prepare(strip(EVENTS)).pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
