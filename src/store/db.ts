/**
 * Opening the database: the pragmas every connection needs, and schema.sql applied to a fresh file.
 * WAL lets readers run beside the one writer; synchronous=FULL makes every acknowledged approval durable
 * (in WAL with NORMAL a commit can be lost on power failure, which could let an approved mail go twice).
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MailgateError, storeError } from '../errors.js';
import { currentVersion, recordVersion, runMigrations, SCHEMA_VERSION } from './migrations.js';
import type { Dialect } from './sql/types.js';

export type Db = Database.Database;

export interface OpenOptions {
  /** How long a writer waits for another process's lock before failing with STORE_BUSY. */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  let db: Db;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { readonly: opts.readonly ?? false });
  } catch (err) {
    throw (
      storeError(err, path) ??
      new MailgateError('CONFIG_INVALID', `cannot open database ${path}: ${(err as Error).message}; check --db, MAILGATE_DB or the config's database`)
    );
  }
  try {
    prepare(db, opts);
  } catch (err) {
    db.close();
    // A foreign file, a damaged page, a full disk or a read-only directory shows up here, at the first read or
    // write: report it with the file's path and the fix rather than as an internal error.
    throw storeError(err, path) ?? err;
  }
  return db;
}

/**
 * Page cache per connection, in KiB (negative: a size, not a page count). better-sqlite3 builds SQLite with 16 MiB;
 * indexing a 10,000-message folder fills it, and that memory stays in the process (peak RSS 13-15 MiB higher in the peer
 * bench's session). This is SQLite's own default: the OS page cache serves the rest (at 100,000 cached emails a
 * full-text search took 2 ms instead of 1, a folder's count 4 instead of 3).
 */
const PAGE_CACHE_KIB = 2000;

function prepare(db: Db, opts: OpenOptions): void {
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  db.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    // Foreign keys stay off while migrations rebuild tables (SQLite's documented procedure: the pragma cannot
    // change inside a transaction); the transaction checks them itself before it commits.
    db.pragma('foreign_keys = OFF');
    // Several processes may open a fresh file at once; IMMEDIATE serialises schema creation.
    db.transaction(() => {
      const version = currentVersion(db);
      const schema = readFileSync(schemaPath(), 'utf8');
      if (version !== null) runMigrations(db, version, schema);
      db.exec(schema);
      // An external-content FTS table starts empty: index the mail that was there before it existed.
      if (version !== null && version < 2) db.exec("INSERT INTO emails_fts (emails_fts) VALUES ('rebuild')");
      // Only a migration can have broken a reference; the check costs ~0.2 µs a row, so it is not run on every open.
      if (version !== null && version < SCHEMA_VERSION) {
        const broken = db.prepare('PRAGMA foreign_key_check').all();
        if (broken.length > 0) throw new Error(`database has ${broken.length} broken foreign key reference(s) after migration`);
      }
      recordVersion(db);
    }).immediate();
    db.pragma('foreign_keys = ON');
  }
}

/**
 * Limits a query to a principal's mailboxes (src/services/scope.ts): the clause takes `@mailboxes`, the JSON list
 * scopeParam gives, or NULL for every mailbox where the SQL says `@mailboxes IS NULL OR`.
 */
export const inScope = (dialect: Dialect): string => `mailbox IN ${dialect.jsonList('@mailboxes')}`;
export const scopeParam = (mailboxes: readonly string[] | undefined): string | null => (mailboxes ? JSON.stringify(mailboxes) : null);

/**
 * Runs fn in a BEGIN IMMEDIATE transaction. IMMEDIATE takes the write lock up front: a deferred
 * read-then-write transaction can fail with SQLITE_BUSY on the lock upgrade even with a busy timeout.
 * fn must be synchronous: nothing may be awaited while the lock is held.
 */
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

const statementCache = new WeakMap<Db, Map<string, Database.Statement>>();

/**
 * A prepared statement, cached per connection by its SQL text: compiling costs 25-110 µs a statement and a
 * send runs about six. `pluck` statements are cached apart, since pluck() changes the statement it is set on.
 */
export function stmt(db: Db, sql: string, pluck = false): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  const key = pluck ? `pluck:${sql}` : sql;
  let s = cache.get(key);
  if (!s) {
    s = db.prepare(sql);
    if (pluck) s.pluck();
    cache.set(key, s);
  }
  return s;
}

let cachedSchemaPath: string | undefined;

/** schema.sql sits at the package root; find it from here whether running from src/ or dist/src/. */
function schemaPath(): string {
  if (cachedSchemaPath) return cachedSchemaPath;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'schema.sql');
    if (existsSync(candidate)) return (cachedSchemaPath = candidate);
    dir = dirname(dir);
  }
  throw new Error('schema.sql not found next to the mailgate package');
}
