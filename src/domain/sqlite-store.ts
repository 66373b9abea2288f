/**
 * The embedded default: the shared Store on one SQLite file. `db` is the file's connection, for the SQLite-only
 * things (migration tests, pragmas, fault injection) that the backend-neutral Store does not expose.
 */
import type { OpenOptions } from '../store/db.js';
import { SqliteDriver } from '../store/sql/sqlite-driver.js';
import { SqlStore } from './sql-store.js';

export class SqliteStore extends SqlStore {
  readonly db: SqliteDriver['db'];

  constructor(
    readonly path: string,
    opts: OpenOptions = {},
  ) {
    const driver = new SqliteDriver(path, opts);
    super(driver);
    this.db = driver.db;
  }
}
