/**
 * What the inbox cache holds in memory while it indexes a big folder: SQLite's page cache is bounded per connection
 * (src/store/db.ts), on every connection the process opens, including a second one to the same file and a read-only
 * one. better-sqlite3's own default is 16 MiB per connection, which the index of a 10,000-message folder fills.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDriver } from '../../src/store/sql/sqlite-driver.js';
import { sqliteDb } from '../store/sqlite-fixtures.js';

const pageCacheKiB = (db: SqliteDriver['db']) => -(db.pragma('cache_size', { simple: true }) as number);

let t: ReturnType<typeof sqliteDb> | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('SQLite page cache of the store', () => {
  it('is 2 MiB on every connection, read-write or read-only', async () => {
    t = sqliteDb();
    const first = t.open();
    const second = t.open({ busyTimeoutMs: 1000 });
    const readonly = new SqliteDriver(t.path, { readonly: true });
    try {
      expect(pageCacheKiB(first.db)).toBe(2000);
      expect(pageCacheKiB(second.db)).toBe(2000);
      expect(pageCacheKiB(readonly.db)).toBe(2000);
    } finally {
      await readonly.close();
    }
  });
});
