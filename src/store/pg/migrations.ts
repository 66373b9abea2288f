/**
 * PostgreSQL's numbered migrations. Unlike SQLite's (a fresh file gets schema.sql, old files get patched up to
 * it), here every database, fresh or not, is brought to the current version by applying each missing migration in
 * order, each in its own transaction together with the version it reaches; version 1 is the whole schema.
 * The version is kept where SQLite keeps it: meta.schema_version. The numbers are PostgreSQL's own (SQLite's
 * schema 5 is PostgreSQL's 1).
 */
import type pg from 'pg';
import { MailgateError } from '../../errors.js';
import { SCHEMA_V1 } from './schema-v1.js';
import { MIGRATION_3 } from './schema-v3.js';

/** Index + 1 is the version each one reaches. Append only; never edit one that has shipped. */
const MIGRATIONS: readonly string[] = [
  SCHEMA_V1,
  // 2 (SQLite's 6): a folder's envelope backfill resumes below this UID after a restart; NULL once complete.
  'ALTER TABLE imap_folders ADD COLUMN backfill_below BIGINT',
  // 3 (SQLite's 7): the Art. 22 hold and the address book (its audit events, its table).
  MIGRATION_3,
  // 4 (SQLite's 8): mailboxes carry operator-set labels.
  `ALTER TABLE mailboxes ADD COLUMN metadata TEXT COLLATE "C" NOT NULL DEFAULT '{}' CHECK ((metadata::json) IS NOT NULL)`,
  // 5: the body prefetch's work list, without a scan of every cached row at 100,000 messages (SQLite: schema.sql).
  'CREATE INDEX emails_unfetched ON emails (mailbox, folder, uid) WHERE has_body = 0 AND uid IS NOT NULL',
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * A session advisory lock (held across the migrations' transactions, released when the connection ends even if
 * the process dies): instances starting together wait here, and all but the first then find nothing to do.
 * Transaction locks (q.lock) hash strings with hashtextextended, so a clash with this constant is improbable.
 */
const MIGRATION_LOCK = '7881693290185307237'; // 'mailgate' in ASCII, as a bigint

/** The version a database is at: 0 when mailgate has never migrated it. */
export async function pgSchemaVersion(client: pg.ClientBase): Promise<number> {
  const hasMeta = await client.query("SELECT to_regclass('meta') IS NOT NULL AS present");
  if (!hasMeta.rows[0].present) return 0;
  const row = await client.query("SELECT value FROM meta WHERE key = 'schema_version'");
  return row.rows.length ? Number(row.rows[0].value) : 0;
}

/**
 * Brings the database up to PG_SCHEMA_VERSION. `translate` turns connection failures into catalogued errors
 * (the driver's, which knows the server); a failing migration rolls back whole and names its version.
 */
export async function migratePg(pool: pg.Pool, translate: (err: unknown) => unknown = (e) => e): Promise<{ from: number; to: number }> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw translate(err);
  }
  client.on('error', () => undefined); // lost while lent out: the query in flight fails with it (pg-driver.ts)
  let broken: Error | undefined;
  try {
    await client.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    try {
      const from = await pgSchemaVersion(client);
      if (from > PG_SCHEMA_VERSION) {
        // Older code writing to a newer schema could break rules it does not know: refuse, touching nothing.
        throw new MailgateError(
          'STORE_TOO_NEW',
          `the database is at schema version ${from}, this mailgate knows ${PG_SCHEMA_VERSION}: upgrade mailgate ` +
            `(npm install -g mailgate@latest) on every instance that uses this database`,
          { details: { schema_version: from, supported: PG_SCHEMA_VERSION } },
        );
      }
      for (let v = from + 1; v <= PG_SCHEMA_VERSION; v++) await applyOne(client, v);
      return { from, to: PG_SCHEMA_VERSION };
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`);
    }
  } catch (err) {
    if (!(err instanceof MailgateError) && !isSqlError(err)) broken = err as Error;
    throw translate(err);
  } finally {
    // A connection that failed mid-way may still hold the session lock: destroy it rather than pool it.
    client.release(broken);
  }
}

async function applyOne(client: pg.PoolClient, version: number): Promise<void> {
  try {
    await client.query('BEGIN');
    await client.query(MIGRATIONS[version - 1]!);
    await client.query("INSERT INTO meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(version)]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (isSqlError(err)) (err as Error).message = `PostgreSQL migration ${version} failed: ${(err as Error).message}`;
    throw err;
  }
}

/** An error the server reported for a statement (the connection is fine), as opposed to a lost connection. */
const isSqlError = (err: unknown) => {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08') && !code.startsWith('57');
};
