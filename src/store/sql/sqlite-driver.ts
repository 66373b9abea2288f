/**
 * SQLite under the SqlTx seam. better-sqlite3 is synchronous, but a store primitive awaits between statements,
 * so another operation of this process could otherwise run its statements inside our open transaction: every
 * read and transaction takes its turn in one queue per database file, shared by every connection this process has
 * to it. Per file, not per connection: a second connection's BEGIN IMMEDIATE waits for the lock synchronously
 * (busy_timeout), which would block the very event loop the first connection needs to finish its transaction.
 * Other processes are kept out by SQLite's own lock, taken up front with BEGIN IMMEDIATE (a deferred
 * read-then-write transaction can fail with SQLITE_BUSY on the lock upgrade, even with a busy timeout).
 * Change signals (q.notify) reach the stores of this process on the same file after the COMMIT; other processes
 * have no channel to hear them on and find the change at their next poll.
 */
import type Database from 'better-sqlite3';
import { realpathSync } from 'node:fs';
import { storeError } from '../../errors.js';
import { type Db, type OpenOptions, openDatabase, stmt } from '../db.js';
import { ChangeHub, uniqueSignals } from './changes.js';
import { TxHooks } from './tx-hooks.js';
import type { Change, Dialect, SqlDriver, SqlParams, SqlTx, TxOptions } from './types.js';

const sqliteDialect: Dialect = {
  name: 'sqlite',
  jsonList: (expr) => `(SELECT value FROM json_each(${expr}))`,
  skipLocked: '',
  insertionOrder: 'rowid',
};

const bind = (s: Database.Statement, method: 'all' | 'get' | 'run', params: SqlParams | undefined) => {
  if (params === undefined) return s[method]();
  return Array.isArray(params) ? s[method](...(params as unknown[])) : s[method](params);
};

class SqliteTx extends TxHooks implements SqlTx {
  readonly dialect = sqliteDialect;

  constructor(
    private readonly db: Db,
    owner: object,
    inTransaction: boolean,
  ) {
    super(owner, inTransaction);
  }

  all<T>(sql: string, params?: SqlParams) {
    return Promise.resolve(bind(stmt(this.db, sql), 'all', params) as T[]);
  }
  get<T>(sql: string, params?: SqlParams) {
    return Promise.resolve(bind(stmt(this.db, sql), 'get', params) as T | undefined);
  }
  value<T>(sql: string, params?: SqlParams) {
    return Promise.resolve(bind(stmt(this.db, sql, true), 'get', params) as T | undefined);
  }
  column<T>(sql: string, params?: SqlParams) {
    return Promise.resolve(bind(stmt(this.db, sql, true), 'all', params) as T[]);
  }
  run(sql: string, params?: SqlParams) {
    const info = bind(stmt(this.db, sql), 'run', params) as Database.RunResult;
    return Promise.resolve({ changes: info.changes });
  }
  lock(_key: string) {
    return Promise.resolve();
  }
}

/** The tail of each database file's queue, by real path (":memory:" databases are each their own). */
const queues = new Map<string, Promise<unknown>>();
/** The change listeners of each database file, by real path: every store this process has on it hears each commit. */
const hubs = new Map<string, ChangeHub>();

const fileKey = (path: string): string | null => {
  if (path === ':memory:' || path === '') return null;
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

export class SqliteDriver implements SqlDriver {
  readonly kind = 'sqlite' as const;
  readonly dialect = sqliteDialect;
  readonly db: Db;
  private readonly key: string | null;
  private own: Promise<unknown> = Promise.resolve();
  private readonly hub: ChangeHub;

  constructor(
    readonly path: string,
    opts: OpenOptions = {},
  ) {
    this.db = openDatabase(path, opts);
    this.key = fileKey(path);
    if (this.key === null) this.hub = new ChangeHub();
    else if (hubs.has(this.key)) this.hub = hubs.get(this.key)!;
    else hubs.set(this.key, (this.hub = new ChangeHub()));
  }

  private get queue(): Promise<unknown> {
    return this.key === null ? this.own : (queues.get(this.key) ?? Promise.resolve());
  }

  private set queue(tail: Promise<unknown>) {
    if (this.key === null) this.own = tail;
    else queues.set(this.key, tail);
  }

  read<T>(fn: (q: SqlTx) => Promise<T>): Promise<T> {
    return this.exclusive(() => fn(new SqliteTx(this.db, this, false)));
  }

  tx<T>(fn: (q: SqlTx) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    return this.exclusive(async () => {
      const q = new SqliteTx(this.db, this, true);
      this.db.prepare('BEGIN IMMEDIATE').run();
      let result: T;
      try {
        result = await fn(q);
        if (!opts.rollback) for (const end of q.ending) await end();
      } catch (err) {
        if (this.db.inTransaction) this.db.prepare('ROLLBACK').run();
        throw err;
      }
      if (opts.rollback) {
        this.db.prepare('ROLLBACK').run();
        return result;
      }
      this.db.prepare('COMMIT').run();
      for (const f of q.committed) queueMicrotask(f);
      this.hub.deliver(uniqueSignals(q.signals), this);
      return result;
    });
  }

  listen(listener: (c: Change) => void): () => void {
    return this.hub.add(this, listener);
  }

  /** One operation at a time on this connection; SQLite's failures are translated here, where the path is known. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn).catch((err: unknown) => {
      throw storeError(err, this.path) ?? err;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  close() {
    // Closing waits for the operations already queued, so none of them finds the connection closed.
    return this.queue.then(() => {
      if (this.db.open) this.db.close();
    });
  }
}
