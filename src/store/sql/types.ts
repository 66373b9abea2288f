/**
 * The seam between the store's SQL and a database: every store primitive is written once, in SQL both
 * SQLite and PostgreSQL accept, against SqlTx; a driver (sqlite-driver.ts, pg-driver.ts) runs it. Where the two
 * dialects differ, the primitive asks the Dialect for the fragment instead of branching on the backend.
 *
 * Parameters: positional (`?`, an array) or named (`@name`, an object whose keys have no `@`). Values are
 * strings, numbers, null and Buffers: booleans are stored as 0/1 and JSON as text, on both backends.
 */
export type SqlParams = readonly unknown[] | Readonly<Record<string, unknown>>;

export interface SqlTx {
  readonly dialect: Dialect;
  /** The driver this transaction runs on: per-store state (webhook listeners) is keyed by it. */
  readonly owner: object;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** The first column of the first row (SELECT COUNT(*) ..., SELECT hash ...). */
  value<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  /** The first column of every row. */
  column<T>(sql: string, params?: SqlParams): Promise<T[]>;
  run(sql: string, params?: SqlParams): Promise<{ changes: number }>;
  /**
   * Serialises this transaction with every other that takes the same key, until it ends (PostgreSQL: an
   * advisory transaction lock; SQLite: nothing, its single writer already does). Used for the audit chain's
   * head and a mailbox's submit facts (rate limits, caps, dedupe), which rows alone cannot lock.
   */
  lock(key: string): Promise<void>;
  /** Runs fn after this transaction commits (never after a rollback): wake-ups for workers and dispatchers. */
  afterCommit(fn: () => void): void;
  /**
   * Runs fn at the end of the transaction, after the caller's work and just before COMMIT, in the order
   * registered (never for driver.read, never when the transaction rolls back). The audit chain appends here,
   * so its lock is held from the append to the COMMIT only, not for the whole transaction.
   */
  beforeCommit(fn: () => Promise<void>): void;
  /**
   * Signals `topic` (in `mailbox`, or null) to every store on this database once this transaction commits, never
   * after a rollback: to this process's listeners at once, as afterCommit, and (PostgreSQL) to other instances
   * through NOTIFY, which the server delivers only on commit. Repeats within one transaction are sent once.
   */
  notify(topic: string, mailbox: string | null): void;
}

/**
 * A committed change, as SqlDriver.listen hands it on. `local`: this driver's own transaction made it (its caller
 * already knows); false for other instances' and other stores' changes. The driver itself sends `resync` when
 * signals may have been lost (PostgreSQL: the LISTEN connection dropped), so listeners look at everything again.
 */
export interface Change {
  topic: string;
  mailbox: string | null;
  local: boolean;
}

export interface TxOptions {
  /** Keys to lock() at the start, in a fixed order (fewer deadlocks than taking them as the code goes). */
  locks?: readonly string[];
  /** Run fn and roll back whatever it wrote (a policy simulation). */
  rollback?: boolean;
}

export interface SqlDriver {
  readonly kind: 'sqlite' | 'postgres';
  readonly dialect: Dialect;
  /** Reads outside a write transaction (PostgreSQL: autocommit statements on a pooled connection). */
  read<T>(fn: (q: SqlTx) => Promise<T>): Promise<T>;
  /**
   * One transaction: fn's statements commit together or not at all. fn may be run again when the database
   * reports a serialisation failure or deadlock (PostgreSQL), so it must do nothing but SQL through q.
   */
  tx<T>(fn: (q: SqlTx) => Promise<T>, opts?: TxOptions): Promise<T>;
  /**
   * Calls `listener` for each change committed on this database by this or another store (SQLite: the stores of
   * this process on the same file; PostgreSQL: every instance, over LISTEN). Returns the unsubscribe function.
   */
  listen(listener: (c: Change) => void): () => void;
  close(): Promise<void>;
}

/** The few fragments the two dialects spell differently. */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /**
   * A subquery of the elements of a JSON array held in `expr` (a parameter such as `@mailboxes` or a column),
   * for `x IN ${jsonList(...)}`; `int` when the elements are numbers compared with an integer column.
   */
  jsonList(expr: string, type?: 'text' | 'int'): string;
  /** Appended to a claim's inner SELECT: other instances skip rows a claim has locked (empty on SQLite). */
  readonly skipLocked: string;
  /** A column that orders rows of messages and emails by insertion (SQLite's rowid; PostgreSQL's row_seq). */
  readonly insertionOrder: string;
}
