/**
 * The baseline: plain better-sqlite3 with the pragmas src/store/db.ts sets (WAL, synchronous=FULL,
 * busy_timeout, foreign_keys) and statements prepared once. What mailgate adds on top of this is the figure.
 */
import Database from 'better-sqlite3';

export type RawDb = Database.Database;

export function openRaw(path: string): RawDb {
  const db = new Database(path);
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** A table shaped like `messages` where it matters for an insert: text primary key, JSON text, the pending index. */
export function createBaselineTable(db: RawDb): void {
  db.exec(`CREATE TABLE IF NOT EXISTS messages (
      message_id TEXT PRIMARY KEY, mailbox TEXT NOT NULL, status TEXT NOT NULL, to_addrs TEXT NOT NULL,
      subject TEXT NOT NULL, text_body TEXT, created_at INTEGER NOT NULL, expires_at INTEGER, updated_at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX IF NOT EXISTS messages_pending ON messages (created_at, message_id) WHERE status = 'pending';`);
}

/** One committed single-row INSERT transaction (BEGIN IMMEDIATE ... COMMIT), as mailgate's store does per send. */
export function baselineInserter(db: RawDb): () => void {
  const stmt = db.prepare(`INSERT INTO messages (message_id, mailbox, status, to_addrs, subject, text_body, created_at, expires_at, updated_at)
    VALUES (?, 'agent@mailgate.test', 'pending', ?, ?, ?, ?, ?, ?)`);
  const insert = db.transaction((i: number) => {
    const t = Date.now();
    stmt.run(`msg_bench_${process.pid}_${i}`, JSON.stringify([`someone+${i}@example.com`]), `Bench ${i}`, BODY, t, t + 72 * 3600_000, t);
  });
  let seq = 0;
  return () => insert.immediate(seq++);
}

export const BODY =
  'Hello,\n\nthis is a benchmark message of about the size an agent writes: a greeting, two sentences ' +
  'of content and a signature. Nothing in it matters except its length.\n\nRegards,\nthe bench';
