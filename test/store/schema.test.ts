/** Connection pragmas and the schema's own guards (STRICT tables, CHECK constraints), checked with raw SQL. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toMailgateError } from '../../src/errors.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { AUDIT_ACTIONS, GATE_CODES, MESSAGE_STATUSES } from '../../src/values.js';
import { ALICE, addMailbox, failure, submit } from './fixtures.js';
import { count, schemaVersionOf, sqliteDb } from './sqlite-fixtures.js';

let t: ReturnType<typeof sqliteDb>;
beforeEach(() => {
  t = sqliteDb();
});
afterEach(async () => {
  await t.close();
});

describe('pragmas on every connection', () => {
  it('uses WAL, synchronous FULL, foreign keys and the default busy timeout', () => {
    const s = t.open();
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.pragma('busy_timeout', { simple: true })).toBe(5000);
  });

  it('a second connection to the same file gets the same pragmas and its own busy timeout', () => {
    t.open();
    const second = t.open({ busyTimeoutMs: 1234 });
    expect(second.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(second.db.pragma('synchronous', { simple: true })).toBe(2);
    expect(second.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(second.db.pragma('busy_timeout', { simple: true })).toBe(1234);
  });

  it('records the schema version once, however many connections open the file', () => {
    const a = t.open();
    t.open();
    expect(schemaVersionOf(a.db)).toEqual([String(SCHEMA_VERSION)]);
    expect(SCHEMA_VERSION).toBe(8);
  });

  it('every table is STRICT, except the full-text index, which SQLite cannot make STRICT', () => {
    const s = t.open();
    const tables = s.db.prepare("SELECT name, type, strict FROM pragma_table_list WHERE schema = 'main' AND name NOT LIKE 'sqlite_%'").all() as {
      name: string;
      type: string;
      strict: number;
    }[];
    expect(tables.map((x) => x.name).sort()).toEqual([
      'approval_links',
      'audit_events',
      'captured_mail',
      'change_links',
      'contact_list_members',
      'contacts',
      'correspondents',
      'emails',
      'emails_fts',
      'emails_fts_config',
      'emails_fts_data',
      'emails_fts_docsize',
      'emails_fts_idx',
      'imap_folders',
      'leases',
      'mailbox_actions',
      'mailboxes',
      'message_attachments',
      'message_recipients',
      'messages',
      'meta',
      'suppressions',
      'tokens',
      'webhook_deliveries',
      'webhook_endpoints',
      'webhook_events',
    ]);
    // FTS5 virtual tables and their shadow tables are the only non-STRICT ones, and only they are not ordinary tables.
    expect(
      tables
        .filter((x) => x.strict !== 1)
        .map((x) => `${x.type}:${x.name}`)
        .sort(),
    ).toEqual(['shadow:emails_fts_config', 'shadow:emails_fts_data', 'shadow:emails_fts_docsize', 'shadow:emails_fts_idx', 'virtual:emails_fts']);
    expect(tables.filter((x) => x.type !== 'table').every((x) => x.name.startsWith('emails_fts'))).toBe(true);
  });
});

describe('schema guards reject bad rows written with raw SQL', () => {
  it('refuses a message status outside the lifecycle vocabulary', async () => {
    const s = t.open();
    await addMailbox(s, ALICE);
    const { message } = await submit(s, ALICE);
    expect(() => s.db.prepare("UPDATE messages SET status = 'teleported' WHERE message_id = ?").run(message.message_id)).toThrow(/CHECK constraint failed/);
    expect(s.db.prepare('SELECT status FROM messages WHERE message_id = ?').pluck().get(message.message_id)).toBe('pending');
  });

  it('refuses a pending message without an expiry or with a decision time', async () => {
    const s = t.open();
    await addMailbox(s, ALICE);
    const { message } = await submit(s, ALICE);
    expect(() => s.db.prepare('UPDATE messages SET expires_at = NULL WHERE message_id = ?').run(message.message_id)).toThrow(/CHECK constraint failed/);
    expect(() => s.db.prepare('UPDATE messages SET decided_at = 1 WHERE message_id = ?').run(message.message_id)).toThrow(/CHECK constraint failed/);
  });

  it('refuses an unknown oversight mode, on insert and on update', async () => {
    const s = t.open();
    const insert = () =>
      s.db
        .prepare(`INSERT INTO mailboxes (address, oversight_mode, mode_source, pending_ttl_seconds, transport, created_at, updated_at)
      VALUES ('x@y.test', 'yolo', 'test', 60, 'sandbox', 0, 0)`)
        .run();
    expect(insert).toThrow(/CHECK constraint failed/);
    await addMailbox(s, ALICE);
    expect(() => s.db.prepare("UPDATE mailboxes SET oversight_mode = 'yolo' WHERE address = ?").run(ALICE)).toThrow(/CHECK constraint failed/);
    expect(count(s, "SELECT count(*) FROM mailboxes WHERE oversight_mode = 'gated_send'")).toBe(1);
  });

  it('refuses an upper-case mailbox address and a non-array rule list', () => {
    const s = t.open();
    const ins = (address: string, rules: string) => () =>
      s.db
        .prepare(`INSERT INTO mailboxes (address, oversight_mode, mode_source, auto_approve_rules,
      pending_ttl_seconds, transport, created_at, updated_at) VALUES (?, 'gated_send', 'test', ?, 60, 'sandbox', 0, 0)`)
        .run(address, rules);
    expect(ins('Alice@Sandbox.test', '[]')).toThrow(/CHECK constraint failed/);
    expect(ins('alice@sandbox.test', '{"type":"all"}')).toThrow(/CHECK constraint failed/);
    expect(count(s, 'SELECT count(*) FROM mailboxes')).toBe(0);
  });

  it('STRICT refuses a value of the wrong type', async () => {
    const s = t.open();
    await addMailbox(s, ALICE);
    expect(() => s.db.prepare("UPDATE mailboxes SET pending_ttl_seconds = 'a day' WHERE address = ?").run(ALICE)).toThrow(
      /cannot store TEXT value in INTEGER column/,
    );
  });

  it('the status, gate_code and audit action CHECK lists are exactly the vocabularies of src/values.ts', () => {
    const s = t.open();
    const list = (table: string, column: string) => {
      const sql = s.db.prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(table) as string;
      const m = new RegExp(`CHECK \\(${column} IN \\(([^)]*)\\)\\)`).exec(sql);
      return (m?.[1]?.match(/'[^']*'/g) ?? []).map((v) => v.slice(1, -1)).sort();
    };
    expect(list('messages', 'status')).toEqual([...MESSAGE_STATUSES].sort());
    expect(list('messages', 'gate_code')).toEqual([...GATE_CODES].sort());
    expect(list('audit_events', 'action')).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('refuses an audit action outside the vocabulary and a message for an unknown mailbox', async () => {
    const s = t.open();
    expect(() =>
      s.db
        .prepare(`INSERT INTO audit_events (event_id, at, actor, action, detail, prev_hash, hash)
      VALUES ('evt_x', 0, 'a', 'message.teleported', '{}', '', '')`)
        .run(),
    ).toThrow(/CHECK constraint failed/);
    await expect(submit(s, ALICE)).rejects.toMatchObject({ code: 'UNKNOWN_MAILBOX' });
    await addMailbox(s, ALICE);
    const { message } = await submit(s, ALICE);
    // foreign_keys = ON: the mailbox row cannot vanish from under its messages.
    expect(() => s.db.prepare('DELETE FROM mailboxes WHERE address = ?').run(ALICE)).toThrow(/FOREIGN KEY constraint failed/);
    expect(count(s, 'SELECT count(*) FROM messages WHERE mailbox = ?', message.mailbox)).toBe(1);
  });
});

describe('another process holding the write lock', () => {
  it('a write waits for busy_timeout, then fails retryably with nothing written; reads keep working', async () => {
    const holder = t.open();
    const s = t.open({ busyTimeoutMs: 250 });
    await addMailbox(s, ALICE);
    const { message } = await submit(s, ALICE);
    const before = count(s, 'SELECT count(*) FROM audit_events');
    holder.db.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const err = await failure(s.decideMessage(message.message_id, { action: 'approve', actor: 'r' }, 1));
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      expect(err.code).toBe('STORE_BUSY');
      expect(err.message).toContain(t.path);
      expect(toMailgateError(err)).toMatchObject({ code: 'STORE_BUSY', retryable: true });
      expect((await s.getMessage(message.message_id))?.status).toBe('pending');
      expect((await s.listPending({ limit: 10, now: 1 })).messages.length).toBe(1);
      expect((await s.verifyAudit()).ok).toBe(true);
    } finally {
      holder.db.exec('ROLLBACK');
    }
    expect(count(s, 'SELECT count(*) FROM audit_events')).toBe(before);
    expect((await s.decideMessage(message.message_id, { action: 'approve', actor: 'r' }, 1)).status).toBe('approved');
  });
});
