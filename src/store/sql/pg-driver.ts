/**
 * PostgreSQL under the SqlTx seam, for several mailgate instances on one database. Each transaction runs on its
 * own pooled connection at READ COMMITTED; what SQLite's single writer gave for free (rate limits, the audit
 * chain's head) is serialised with advisory transaction locks on the keys the store names (q.lock, opts.locks).
 * Row claims use FOR UPDATE SKIP LOCKED (the dialect's skipLocked). A deadlock or serialisation failure reruns
 * the whole transaction, which is why fn may do nothing but SQL through q. Change signals (q.notify) ride on the
 * COMMIT as NOTIFY and reach other instances through pg-listener.ts.
 */
import pg from 'pg';
import { randomToken } from '../../ids.js';
import { log } from '../../log.js';
import { migratePg } from '../pg/migrations.js';
import { CHANNEL, ChangeHub, encodeSignals, type Signal, uniqueSignals } from './changes.js';
import { type PgOptions, type PgTarget, pgPoolConfig } from './pg-config.js';
import { isRetryable, pgError } from './pg-errors.js';
import { PgListener } from './pg-listener.js';
import { toPgQuery } from './placeholders.js';
import { TxHooks } from './tx-hooks.js';
import type { Change, Dialect, SqlDriver, SqlParams, SqlTx, TxOptions } from './types.js';

const pgDialect: Dialect = {
  name: 'postgres',
  // The ::json cast types the parameter (a `@ids IS NULL OR` before it is answered in placeholders.ts, since
  // PostgreSQL types parameters left to right); json_array_elements_text(NULL) yields no rows, so a NULL list is
  // empty, as json_each(NULL) is in SQLite.
  jsonList: (expr, type = 'text') =>
    type === 'int'
      ? `(SELECT value::bigint FROM json_array_elements_text((${expr})::json) AS value)`
      : `(SELECT value FROM json_array_elements_text((${expr})::json) AS value)`,
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  insertionOrder: 'row_seq',
};

/**
 * Per pool, not pg.types (global to the process): counts, sums and millisecond times come back as numbers, as
 * SQLite gives them; they stay far below 2^53. BYTEA stays pg's Buffer.
 */
const NUMBERS = new Set([20, 1700]); // int8, numeric
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    NUMBERS.has(oid) && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

const MAX_ATTEMPTS = 5;
const watched = new WeakSet<pg.PoolClient>();
const LOCK_SQL = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))';

class PgTx extends TxHooks implements SqlTx {
  readonly dialect = pgDialect;
  private readonly locked = new Set<string>();

  constructor(
    private readonly client: pg.PoolClient,
    owner: object,
    inTransaction: boolean,
  ) {
    super(owner, inTransaction);
  }

  /** Statements that succeeded: a read whose first one met a dead connection can be run again. */
  statements = 0;

  private async query(sql: string, params: SqlParams | undefined): Promise<pg.QueryResult> {
    const { text, values } = toPgQuery(sql, params);
    const result = await this.client.query({ text, values });
    this.statements++;
    return result;
  }
  private async queryArrays(sql: string, params: SqlParams | undefined): Promise<pg.QueryArrayResult> {
    const { text, values } = toPgQuery(sql, params);
    const result = await this.client.query({ text, values, rowMode: 'array' });
    this.statements++;
    return result;
  }
  async all<T>(sql: string, params?: SqlParams) {
    return (await this.query(sql, params)).rows as T[];
  }
  async get<T>(sql: string, params?: SqlParams) {
    return (await this.query(sql, params)).rows[0] as T | undefined;
  }
  async value<T>(sql: string, params?: SqlParams) {
    return (await this.queryArrays(sql, params)).rows[0]?.[0] as T | undefined;
  }
  async column<T>(sql: string, params?: SqlParams) {
    return (await this.queryArrays(sql, params)).rows.map((r) => r[0] as T);
  }
  async run(sql: string, params?: SqlParams) {
    return { changes: (await this.query(sql, params)).rowCount ?? 0 };
  }
  async lock(key: string) {
    // Outside a transaction an xact lock would end with its own statement: a caller relying on it would be wrong.
    if (!this.inTransaction) throw new Error(`lock('${key}') needs a transaction (driver.tx), not driver.read`);
    if (this.locked.has(key)) return;
    this.locked.add(key);
    await this.client.query(LOCK_SQL, [key]);
  }
}

export class PgDriver implements SqlDriver {
  readonly kind = 'postgres' as const;
  readonly dialect = pgDialect;
  /** The pool, for what the seam does not cover (LISTEN/NOTIFY needs a connection of its own). */
  readonly pool: pg.Pool;
  /** Host, port, database and user: what messages and `db status` may show. */
  readonly target: PgTarget;
  private readonly password: string;
  private closed: Promise<void> | undefined;
  /** Names this driver in its NOTIFY payloads, so its LISTEN connection can skip what it delivered itself. */
  private readonly instance = randomToken(8);
  private readonly hub = new ChangeHub();
  private listener: PgListener | undefined;
  private readonly listenConfig: pg.ClientConfig;

  constructor(url: string, opts: PgOptions = {}) {
    const { config, target, password } = pgPoolConfig(url, opts);
    this.target = target;
    this.password = password;
    this.pool = new pg.Pool({ ...config, types });
    // Named apart from the pool's connections, so an operator (or a test) can tell it in pg_stat_activity.
    const { max: _max, ...clientConfig } = config;
    this.listenConfig = { ...clientConfig, application_name: 'mailgate-listen', keepAlive: true };
    // An idle connection the server dropped (restart, idle timeout) is reported here; without a listener the
    // process would die. The pool replaces it on the next checkout.
    this.pool.on('error', (err) =>
      log('warn', 'idle PostgreSQL connection failed', { error: (this.translate(err) as Error).message, database: target.database }),
    );
  }

  /** Connects, migrates (under an advisory lock: instances starting together migrate once) and returns the driver. */
  static async open(url: string, opts: PgOptions = {}): Promise<PgDriver> {
    const driver = new PgDriver(url, opts);
    try {
      await migratePg(driver.pool, (err) => driver.translate(err));
      return driver;
    } catch (err) {
      await driver.close();
      throw err;
    }
  }

  async read<T>(fn: (q: SqlTx) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect();
      const q = new PgTx(client, this, false);
      let result: T;
      try {
        result = await fn(q);
      } catch (err) {
        const broken = isConnectionError(err);
        client.release(broken ? (err as Error) : undefined);
        // A pooled connection the server closed while idle fails the first statement: nothing ran, so run fn again.
        if (broken && q.statements === 0 && attempt < 2) continue;
        throw this.translate(err);
      }
      client.release();
      // Each statement committed on its own; the callbacks still wait for fn, as after a transaction.
      for (const f of q.committed) queueMicrotask(f);
      return result;
    }
  }

  async tx<T>(fn: (q: SqlTx) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const locks = [...new Set(opts.locks ?? [])].sort();
    for (let attempt = 1; ; attempt++) {
      const client = await this.connect();
      let q: PgTx;
      let result: T;
      let signals: Signal[];
      let begun = false;
      try {
        await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
        begun = true;
        q = new PgTx(client, this, true);
        for (const key of locks) await q.lock(key);
        result = await fn(q);
        if (!opts.rollback) for (const end of q.ending) await end();
        signals = opts.rollback ? [] : uniqueSignals(q.signals);
        // NOTIFY in the committing statement: one round trip, and the server sends it only if the COMMIT succeeds.
        const notify = signals.length ? `SELECT pg_notify('${CHANNEL}', ${pg.escapeLiteral(encodeSignals(this.instance, signals))}); ` : '';
        await client.query(opts.rollback ? 'ROLLBACK' : `${notify}COMMIT`);
      } catch (err) {
        // A connection that cannot even roll back is thrown away rather than lent to the next caller.
        const broken = await client.query('ROLLBACK').then(
          () => undefined,
          (e: Error) => e,
        );
        client.release(broken);
        // A pooled connection the server closed while idle fails at BEGIN, before fn ran: a fresh one may work.
        // A failure after that (at COMMIT above all) is not retried: whether it committed is unknown.
        if ((isRetryable(err) || (!begun && isConnectionError(err))) && attempt < MAX_ATTEMPTS) {
          await backoff(attempt);
          continue;
        }
        throw this.translate(err, attempt);
      }
      client.release();
      if (!opts.rollback) for (const f of q.committed) queueMicrotask(f);
      this.hub.deliver(signals, this);
      return result;
    }
  }

  listen(listener: (c: Change) => void): () => void {
    const off = this.hub.add(this, listener);
    this.listener ??= new PgListener(this.listenConfig, this.instance, this.hub, (err) => String((this.translate(err) as Error)?.message ?? err));
    this.listener.start();
    return off;
  }

  close(): Promise<void> {
    // Once: pg throws on a second end(); pending checkouts finish first.
    this.closed ??= (async () => {
      await this.listener?.close();
      await this.pool.end();
    })();
    return this.closed;
  }

  private async connect(): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.translate(err);
    }
    // pg-pool listens for errors only on idle clients; a connection lost while lent out would otherwise be an
    // uncaught 'error' event. The query in flight fails with the same error, and the client is then released broken.
    if (!watched.has(client)) {
      watched.add(client);
      client.on('error', () => undefined);
    }
    return client;
  }

  /** A catalogued error for connection, login and conflict failures; anything else unchanged. */
  translate(err: unknown, attempts = 1): unknown {
    return pgError(err, this.target, this.password, attempts) ?? err;
  }
}

/**
 * Errors after which the connection is gone or in an unknown state, so the pool must not lend it again: class 08,
 * the server ending the session (57P01-57P03: shutdown, crash, terminated by an operator), socket errors.
 */
const isConnectionError = (err: unknown) => {
  const code = (err as { code?: unknown })?.code;
  return (
    (typeof code === 'string' && (code.startsWith('08') || /^57P0[123]$/.test(code) || code.startsWith('E'))) ||
    /Connection terminated|not queryable/i.test(String((err as Error)?.message))
  );
};

/** 5-10 ms, 10-20 ms, 20-40 ms...: short, since the conflicting transaction has usually just ended. */
const backoff = (attempt: number) => new Promise((r) => setTimeout(r, 5 * 2 ** (attempt - 1) * (1 + Math.random())));
