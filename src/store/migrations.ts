/**
 * Numbered migrations for databases made by an older schema.sql. They run BEFORE schema.sql is applied, so
 * that schema.sql (all IF NOT EXISTS) can then create the indexes and tables that depend on new columns.
 * A fresh database skips them: schema.sql alone is its truth.
 */
import type Database from 'better-sqlite3';

export const SCHEMA_VERSION = 2;

const MIGRATIONS: Record<number, (db: Database.Database) => void> = {
  // 2: real mail. Delivery marks the final-dot moment; the inbox caches IMAP folders and is full-text indexed.
  2: (db) => {
    db.exec(`ALTER TABLE messages ADD COLUMN transmitting_at INTEGER;
             ALTER TABLE messages ADD COLUMN smtp_response TEXT;
             ALTER TABLE emails ADD COLUMN uidvalidity INTEGER;
             ALTER TABLE emails ADD COLUMN uid INTEGER;
             ALTER TABLE emails ADD COLUMN size INTEGER;
             ALTER TABLE emails ADD COLUMN has_body INTEGER NOT NULL DEFAULT 1 CHECK (has_body IN (0, 1));
             ALTER TABLE emails ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attachments));`);
  },
};

/** The version an existing database is at, or null for a fresh file. */
export function currentVersion(db: Database.Database): number | null {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) return null;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 1;
}

/** Brings an existing database up to SCHEMA_VERSION; call inside the opening transaction, before schema.sql. */
export function runMigrations(db: Database.Database, from: number): void {
  if (from > SCHEMA_VERSION) {
    throw new Error(`database schema version ${from} is newer than this mailgate (${SCHEMA_VERSION}); upgrade mailgate`);
  }
  for (let v = from + 1; v <= SCHEMA_VERSION; v++) MIGRATIONS[v]?.(db);
}

export function recordVersion(db: Database.Database): void {
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
    .run(String(SCHEMA_VERSION));
}
