/**
 * Opens the Store a config names (src/store/location.ts parsed it): the SQLite file, or a PostgreSQL database,
 * migrated before the first operation. The only place that chooses a driver, so nothing above it knows which.
 */
import type { DatabaseLocation } from '../store/location.js';
import type { Store } from '../store/store.js';
import { SqlStore } from './sql-store.js';
import { SqliteStore } from './sqlite-store.js';

export async function openStore(location: DatabaseLocation): Promise<Store> {
  if (location.kind === 'sqlite') return new SqliteStore(location.path);
  // pg (and its listener) load only for PostgreSQL: a SQLite server's start-up does not pay for them.
  const { PgDriver } = await import('../store/sql/pg-driver.js');
  return new SqlStore(await PgDriver.open(location.url));
}
