/**
 * `mailgate db status` and `mailgate db migrate`: a database looked at, or brought up to this mailgate's schema,
 * without opening a Store. Opening a Store migrates and the app then applies the config (mailboxes, webhooks):
 * status must change nothing, and a copy target must stay empty until the copy fills it (db-copy.ts).
 */
import { existsSync, statSync } from 'node:fs';
import type pg from 'pg';
import { storeError } from '../errors.js';
import { type StoreCounts, storeCounts } from '../store/inventory.js';
import type { DatabaseLocation } from '../store/location.js';
import { currentVersion, SCHEMA_VERSION } from '../store/migrations.js';
import { migratePg, PG_SCHEMA_VERSION, pgSchemaVersion } from '../store/pg/migrations.js';
import { PgDriver } from '../store/sql/pg-driver.js';
import { SqliteDriver } from '../store/sql/sqlite-driver.js';
import { type VerifyResult, verifyAuditChain } from '../store/audit.js';

type Backend = DatabaseLocation['kind'];

export interface DatabaseStatus {
  backend: Backend;
  /** The file, or the URL with its password as `***`. */
  location: string;
  /** 0: nothing there yet (no file, or a database mailgate has not migrated). */
  schema_version: number;
  /** The version this mailgate's code writes. The two backends number their schemas apart. */
  code_schema_version: number;
  state: 'up_to_date' | 'needs_migrate' | 'too_new';
  /** null while there is no schema to count in. */
  counts: StoreCounts | null;
  /** With `verify`: the audit chain walked end to end. */
  audit?: VerifyResult;
}

export interface MigrateResult {
  backend: Backend;
  location: string;
  from: number;
  to: number;
}

const displayOf = (location: DatabaseLocation) => (location.kind === 'sqlite' ? location.path : location.display);
const codeSchemaVersion = (backend: Backend) => (backend === 'sqlite' ? SCHEMA_VERSION : PG_SCHEMA_VERSION);

/** Whether `path` is a file (a directory would make SQLite fail with a less helpful message). */
export const isFile = (path: string) => existsSync(path) && statSync(path).isFile();

/**
 * A driver on the database that neither migrates nor creates anything: SQLite read-only (null when the file does
 * not exist, since opening would create it), PostgreSQL without PgDriver.open's migration.
 */
function openAsIs(location: DatabaseLocation): SqliteDriver | PgDriver | null {
  if (location.kind === 'postgres') return new PgDriver(location.url);
  if (!isFile(location.path)) return null;
  return new SqliteDriver(location.path, { readonly: true });
}

/** The schema version a database is at, 0 when mailgate never migrated it. */
export async function schemaVersionOf(driver: SqliteDriver | PgDriver): Promise<number> {
  if (driver.kind === 'sqlite') {
    try {
      return currentVersion(driver.db) ?? 0;
    } catch (err) {
      // Read outside the driver's queue, which is where SQLite's codes are otherwise translated.
      throw storeError(err, driver.path) ?? err;
    }
  }
  let client: pg.PoolClient;
  try {
    client = await driver.pool.connect();
  } catch (err) {
    throw driver.translate(err);
  }
  try {
    return await pgSchemaVersion(client);
  } catch (err) {
    throw driver.translate(err);
  } finally {
    client.release();
  }
}

const stateOf = (version: number, code: number): DatabaseStatus['state'] => (version === code ? 'up_to_date' : version < code ? 'needs_migrate' : 'too_new');

/** Where the database stands against this mailgate; with `verify`, whether its audit chain checks out. Writes nothing. */
export async function databaseStatus(location: DatabaseLocation, opts: { verify: boolean }): Promise<DatabaseStatus> {
  const code = codeSchemaVersion(location.kind);
  const base = { backend: location.kind, location: displayOf(location), code_schema_version: code };
  const driver = openAsIs(location);
  if (!driver) return { ...base, schema_version: 0, state: 'needs_migrate', counts: null };
  try {
    const version = await schemaVersionOf(driver);
    const status: DatabaseStatus = { ...base, schema_version: version, state: stateOf(version, code), counts: null };
    if (version === 0) return status;
    status.counts = await driver.read((q) => storeCounts(q));
    if (opts.verify) status.audit = await driver.read((q) => verifyAuditChain(q));
    return status;
  } finally {
    await driver.close();
  }
}

/**
 * Applies the missing migrations: SQLite by opening the file read-write (what every mailgate process does),
 * PostgreSQL with migratePg under its advisory lock, so instances starting meanwhile migrate nothing twice.
 * Running it again finds nothing to do. A database newer than this mailgate is refused, untouched.
 */
export async function migrateDatabase(location: DatabaseLocation): Promise<MigrateResult> {
  const base = { backend: location.kind, location: displayOf(location) };
  if (location.kind === 'postgres') {
    const driver = new PgDriver(location.url);
    try {
      return { ...base, ...(await migratePg(driver.pool, (err) => driver.translate(err))) };
    } finally {
      await driver.close();
    }
  }
  const before = openAsIs(location);
  let from = 0;
  if (before) {
    try {
      from = await schemaVersionOf(before);
    } finally {
      await before.close();
    }
  }
  // Opening read-write migrates, or refuses a newer database untouched (runMigrations).
  await new SqliteDriver(location.path).close();
  return { ...base, from, to: SCHEMA_VERSION };
}
