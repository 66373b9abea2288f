/**
 * The foundation of the Store implementation both backends share: a driver (src/store/sql) and how every
 * operation runs on it. The class is split over files by aggregate (store-mailboxes.ts, store-messages.ts,
 * sql-store.ts), each extending the one before, so each file stays readable in one sitting. The rules (what a
 * submit checks, what a decision may do, what an outcome changes) are src/domain's; src/store holds the SQL.
 */
import type { MailgateError } from '../errors.js';
import type { SqlDriver, SqlTx, TxOptions } from '../store/sql/types.js';

export abstract class StoreBase {
  constructor(readonly driver: SqlDriver) {}

  protected tx<T>(fn: (q: SqlTx) => Promise<T>, opts?: TxOptions): Promise<T> {
    return this.driver.tx(fn, opts);
  }

  protected read<T>(fn: (q: SqlTx) => Promise<T>): Promise<T> {
    return this.driver.read(fn);
  }

  /** Commits what fn wrote even when it answers with an error (an expiry found by a late decision is recorded). */
  protected tryTx<T>(fn: (q: SqlTx) => Promise<{ ok: true; value: T } | { ok: false; error: MailgateError }>, opts?: TxOptions): Promise<T> {
    return this.tx(fn, opts).then((r) => (r.ok ? r.value : Promise.reject(r.error)));
  }

  close() {
    return this.driver.close();
  }
}

/** The lock key that serialises submits to one mailbox (rate limits, held caps, dedupe windows read as facts). */
export const mailboxLock = (address: string) => `mailbox:${address}`;
