/**
 * Numbered migrations for databases made by an older schema.sql. They run BEFORE schema.sql is applied, so
 * that schema.sql (all IF NOT EXISTS) can then create the indexes and tables that depend on new columns.
 * A fresh database skips them: schema.sql alone is its truth.
 */
import type Database from 'better-sqlite3';
import { MailgateError } from '../errors.js';
import { AUDIT_ACTIONS, GATE_CODES } from '../values.js';

export const SCHEMA_VERSION = 8;

const MIGRATIONS: Record<number, (db: Database.Database, schema: string) => void> = {
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
  // 3: oversight. The gate's and the audit log's vocabularies grew (CHECK lists, which SQLite can only change by
  // rebuilding the table); messages carry policy hits, the approved hash, a thread key and attachments;
  // mailboxes a policy. The monitored-mode notifications table became the webhook outbox (schema.sql).
  3: (db) => {
    rebuildWithCheck(db, 'messages', /CHECK \(gate_code IN \([^)]*\)\)/, `CHECK (gate_code IN (${sqlList(GATE_CODES)}))`);
    db.exec(`ALTER TABLE messages ADD COLUMN policy_hits TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(policy_hits));
             ALTER TABLE messages ADD COLUMN approved_hash TEXT;
             ALTER TABLE messages ADD COLUMN thread_key TEXT;
             ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(attachments));
             ALTER TABLE messages ADD COLUMN pii_salt TEXT;
             ALTER TABLE messages ADD COLUMN dedupe_hash TEXT;
             ALTER TABLE mailboxes ADD COLUMN policy TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(policy) AND json_type(policy) = 'object');
             UPDATE messages SET approved_hash = content_hash WHERE status NOT IN ('pending', 'rejected', 'expired', 'cancelled', 'blocked');
             UPDATE messages SET thread_key = message_id_header WHERE kind <> 'tag';`);
    rebuildWithCheck(db, 'audit_events', /CHECK \(action IN \([^)]*\)\)/, `CHECK (action IN (${sqlList(AUDIT_ACTIONS)}))`);
    const hasNotifications = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'notifications'").get();
    if (hasNotifications) db.exec('DROP TABLE notifications');
  },
  // 4: scoped principals and closed paths. Tokens are bound to mailboxes (NULL: every mailbox, as tokens made
  // before binding existed were); a mailbox remembers the digest of the config entry last applied to it, so a
  // runtime change survives restarts; webhook endpoints say whether they may point at private networks. The
  // audit and gate vocabularies grew again (authz.denied, ...).
  4: (db) => {
    // tokens and webhook_endpoints came with version 3's schema.sql: a database older than that gets them
    // whole from schema.sql after the migrations, new columns included.
    addColumnIfTable(db, 'tokens', `mailboxes TEXT CHECK (mailboxes IS NULL OR (json_valid(mailboxes) AND json_type(mailboxes) = 'array'))`);
    addColumnIfTable(db, 'mailboxes', 'config_digest TEXT');
    addColumnIfTable(db, 'webhook_endpoints', 'allow_private_network INTEGER NOT NULL DEFAULT 0 CHECK (allow_private_network IN (0, 1))');
    rebuildWithCheck(db, 'messages', /CHECK \(gate_code IN \([^)]*\)\)/, `CHECK (gate_code IN (${sqlList(GATE_CODES)}))`);
    rebuildWithCheck(db, 'audit_events', /CHECK \(action IN \([^)]*\)\)/, `CHECK (action IN (${sqlList(AUDIT_ACTIONS)}))`);
  },
  // 5: failure paths. A mailbox's deliveries can pause for a configuration problem (and resume), and back off
  // as a whole after repeated 4xx (the breaker); an operator resolves outcome_unknown (message.resolved).
  // Held mailbox actions (tag_email) left the messages table for their own (mailbox_actions): old rows move
  // there as act_ ids with the same random part, and messages.kind no longer admits 'tag'.
  5: (db, schema) => {
    for (const column of [
      'delivery_paused_at INTEGER',
      'delivery_paused_reason TEXT',
      'delivery_paused_digest TEXT',
      'delivery_failures INTEGER NOT NULL DEFAULT 0 CHECK (delivery_failures >= 0)',
      'delivery_held_until INTEGER',
    ]) {
      addColumnIfTable(db, 'mailboxes', column);
    }
    rebuildWithCheck(db, 'audit_events', /CHECK \(action IN \([^)]*\)\)/, `CHECK (action IN (${sqlList(AUDIT_ACTIONS)}))`);
    moveTagRows(db, schema);
  },
  // 6: big folders. A first sync caches the newest page and backfills older envelopes in the background; the folder
  // remembers the lowest UID cached so far (NULL once complete), so a restart resumes the backfill there.
  6: (db) => addColumnIfTable(db, 'imap_folders', 'backfill_below INTEGER'),
  // 7: the whole email job. A policy hold for automated decisions about people (GDPR Art. 22) and the address
  // book's audit events widen the CHECK lists; the contacts table itself comes from schema.sql.
  7: (db) => {
    rebuildWithCheck(db, 'messages', /CHECK \(gate_code IN \([^)]*\)\)/, `CHECK (gate_code IN (${sqlList(GATE_CODES)}))`);
    rebuildWithCheck(db, 'audit_events', /CHECK \(action IN \([^)]*\)\)/, `CHECK (action IN (${sqlList(AUDIT_ACTIONS)}))`);
  },
  // 8: mailboxes carry operator-set labels (metadata).
  8: (db) => addColumnIfTable(db, 'mailboxes', "metadata TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata) AND json_type(metadata) = 'object')"),
};

function moveTagRows(db: Database.Database, schema: string): void {
  const ddl = /CREATE TABLE IF NOT EXISTS mailbox_actions \([\s\S]*?\) STRICT;/.exec(schema);
  if (!ddl) throw new Error('migration: schema.sql has no mailbox_actions table');
  db.exec(ddl[0]);
  db.exec(`INSERT INTO mailbox_actions (action_id, mailbox, email_id, action, status, gate_code, gate_reason, gate_rule, created_by,
             created_at, expires_at, decided_by, decided_at, decision_reason, next_attempt_at, attempts, last_error, applied_at, updated_at)
           SELECT 'act_' || substr(message_id, 5), mailbox, json_extract(tag_action, '$.email_id'), tag_action,
             CASE status WHEN 'sent' THEN 'applied' WHEN 'outcome_unknown' THEN 'failed' WHEN 'queued' THEN 'approved' WHEN 'sending' THEN 'approved'
               ELSE status END, gate_code, gate_reason, gate_rule, created_by, created_at, expires_at, decided_by, decided_at, decision_reason,
             next_attempt_at, attempts, last_error, sent_at, updated_at
           FROM messages WHERE kind = 'tag' AND tag_action IS NOT NULL;
           DELETE FROM messages WHERE kind = 'tag';
           DROP INDEX IF EXISTS messages_rate;`);
  rebuildWithCheck(db, 'messages', /CHECK \(kind IN \([^)]*\)\)/, "CHECK (kind IN ('send', 'reply'))");
}

function addColumnIfTable(db: Database.Database, table: string, column: string): void {
  if (db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
}

const sqlList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');

/**
 * Rebuilds a table with one CHECK clause replaced (SQLite's "other kinds of table schema changes", steps 4-7 of
 * https://www.sqlite.org/lang_altertable.html#otheralter): new table, copy every row, drop, rename. The caller
 * runs with foreign keys off (db.ts), as that procedure requires; indexes and triggers are recreated by
 * schema.sql afterwards. Rows keep their rowid, so AUTOINCREMENT sequences and audit seq numbers are unchanged.
 */
function rebuildWithCheck(db: Database.Database, table: string, check: RegExp, replacement: string): void {
  const row = db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").get(table) as { sql: string } | undefined;
  if (!row) throw new Error(`migration: table ${table} is missing`);
  if (!check.test(row.sql)) throw new Error(`migration: ${table} has no CHECK clause to replace`);
  const tmp = `${table}_rebuild`;
  const createSql = row.sql.replace(check, replacement).replace(/^CREATE TABLE "?\w+"?/, `CREATE TABLE ${tmp}`);
  db.exec(createSql);
  db.exec(`INSERT INTO ${tmp} SELECT * FROM ${table}`);
  db.exec(`DROP TABLE ${table}`);
  db.exec(`ALTER TABLE ${tmp} RENAME TO ${table}`);
}

/** The version an existing database is at, or null for a fresh file. */
export function currentVersion(db: Database.Database): number | null {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (!hasMeta) return null;
  const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 1;
}

/** Brings an existing database up to SCHEMA_VERSION; call inside the opening transaction, before schema.sql. */
export function runMigrations(db: Database.Database, from: number, schema: string): void {
  if (from > SCHEMA_VERSION) {
    // Opening it would let this older code write rows the newer schema's rules do not expect: refuse, untouched.
    throw new MailgateError(
      'STORE_TOO_NEW',
      `the database ${db.name} has schema version ${from}, newer than this mailgate ` +
        `understands (${SCHEMA_VERSION}): a newer mailgate wrote it. Upgrade mailgate (npm install -g mailgate@latest), ` +
        `or point --db, MAILGATE_DB or the config's database at another file`,
      { details: { database: db.name, schema_version: from } },
    );
  }
  for (let v = from + 1; v <= SCHEMA_VERSION; v++) MIGRATIONS[v]?.(db, schema);
}

export function recordVersion(db: Database.Database): void {
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(SCHEMA_VERSION));
}
