/**
 * The SQLite backend's foundation: the connection, and how every operation runs on it (tx, read). The backend is
 * one class split over files by aggregate (sqlite-mailboxes.ts, sqlite-messages.ts, sqlite-store.ts), each
 * extending the one before, so each file stays readable in one sitting.
 */
import { type MailgateError, storeError } from '../errors.js';
import { type Db, inTransaction, openDatabase } from './db.js';

export abstract class SqliteBase {
  readonly db: Db;

  constructor(
    readonly path: string,
    opts: { busyTimeoutMs?: number } = {},
  ) {
    this.db = openDatabase(path, opts);
  }

  // Both translate SQLite's failures (disk full, damaged page, ...) here, where the file's path is known.
  protected tx<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(inTransaction(this.db, fn));
    } catch (err) {
      return Promise.reject(storeError(err, this.path) ?? err);
    }
  }

  protected read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError(err, this.path) ?? err);
    }
  }

  protected tryTx<T>(fn: () => { ok: true; value: T } | { ok: false; error: MailgateError }): Promise<T> {
    return this.tx(fn).then((r) => (r.ok ? r.value : Promise.reject(r.error)));
  }

  close() {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
