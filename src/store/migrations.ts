/**
 * Numbered migrations for databases created by an older schema.sql. schema.sql is the truth for a fresh
 * database and is written with IF NOT EXISTS, so a fresh file passes through here with nothing to do.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 1;

const MIGRATIONS: Record<number, (db: Database.Database) => void> = {
  // 2: (db) => db.exec('ALTER TABLE ...'),
};

export function runMigrations(db: Database.Database): void {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  let version = row ? Number(row.value) : SCHEMA_VERSION;
  if (version > SCHEMA_VERSION) {
    throw new Error(`database schema version ${version} is newer than this mailgate (${SCHEMA_VERSION}); upgrade mailgate`);
  }
  while (version < SCHEMA_VERSION) {
    version += 1;
    MIGRATIONS[version]?.(db);
  }
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(version));
}
