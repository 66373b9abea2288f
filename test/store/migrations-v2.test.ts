/**
 * Upgrading a version-2 database (fixtures/schema-v2.sql, the schema.sql of 24c04ca) to version 3. Migration 3
 * rebuilds messages and audit_events to widen their CHECK lists, adds columns and drops notifications, with
 * foreign keys off and checked before the commit (src/store/db.ts). Nothing version 2 wrote may be lost,
 * renumbered, unverifiable or left unprotected, and mail it held or approved must still be decided and delivered.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { appendAudit, eventHash } from '../../src/store/audit.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { ALICE, BOB, CAROL, OUTSIDER, T0, TTL_S, addMailbox, auditCount, content, deliveredCopies, sandboxWorker, submit } from './fixtures.js';
import { schemaShape, schemaVersionOf, sqliteDb } from './sqlite-fixtures.js';
import { threadRunner } from './threads.js';

const V2_SCHEMA = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'schema-v2.sql'), 'utf8');

const v2id = (name: string) => `msg_v2${name}`.padEnd(25, '0');
const ID = { pending: v2id('pending'), approved: v2id('approved'), sent: v2id('sent'), rejected: v2id('rejected'), queued: v2id('queued') };
const INBOX_COPY = 'em_v2inbox00000000000000';
const SENT_COPY = 'em_v2sentcopy00000000000';
const RETRY_KEY = 'v2-retry';
/** What the agent drafted for the held message; a retry after the upgrade sends the same. */
const PENDING_CONTENT = content({ to: [BOB], subject: 'Held by version two', text: 'Body two' });

/**
 * The approval hash as version 2 computed it (24c04ca message-ops.ts messageHash), written out here so a change
 * to the current hash cannot hide that rows approved before the upgrade no longer match it.
 */
function v2Hash(m: Record<string, unknown>): string {
  const keys = Object.keys(m).sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, m[k] ?? null])))
    .digest('hex');
}

type V2Message = {
  id: string;
  mailbox?: string;
  status: string;
  to: string[];
  subject: string;
  text?: string;
  created_at: number;
  gate_code?: string;
  gate_reason?: string;
  mode?: string;
  notify?: number;
  expires_at?: number | null;
  decided_at?: number | null;
  decided_by?: string | null;
  decision_reason?: string | null;
  idempotency_key?: string | null;
  attempts?: number;
  next_attempt_at?: number | null;
  transmitting_at?: number | null;
  smtp_response?: string | null;
  sent_at?: number | null;
};

function insertMessage(db: Database.Database, m: V2Message): void {
  const mailbox = m.mailbox ?? ALICE;
  const text = m.text ?? 'Body two';
  const hash = v2Hash({ kind: 'send', mailbox, to: m.to, cc: [], bcc: [], subject: m.subject, text, html: null, reply_to_email_id: null, tag_action: null });
  db.prepare(`INSERT INTO messages (message_id, mailbox, kind, status, from_addr, to_addrs, cc_addrs, bcc_addrs, subject, text_body,
      message_id_header, content_hash, idempotency_key, created_by, mode_at_submit, gate_code, gate_reason, notify, created_at, expires_at,
      decided_at, decided_by, decision_reason, attempts, next_attempt_at, transmitting_at, smtp_response, sent_at, updated_at)
    VALUES (@id, @mailbox, 'send', @status, @mailbox, @to, '[]', '[]', @subject, @text, @header, @hash, @idempotency_key, 'agent:v2',
      @mode, @gate_code, @gate_reason, @notify, @created_at, @expires_at, @decided_at, @decided_by, @decision_reason, @attempts,
      @next_attempt_at, @transmitting_at, @smtp_response, @sent_at, @created_at)`).run({
    expires_at: null,
    decided_at: null,
    decided_by: null,
    decision_reason: null,
    idempotency_key: null,
    attempts: 0,
    next_attempt_at: null,
    transmitting_at: null,
    smtp_response: null,
    sent_at: null,
    notify: 0,
    mode: 'gated_send',
    gate_code: 'mode_requires_approval',
    gate_reason: 'gated_send mode holds sends for approval',
    ...m,
    mailbox,
    text,
    to: JSON.stringify(m.to),
    hash,
    header: `<${m.id}@sandbox.test>`,
  });
}

/** The version-2 audit chain, hashed with the real eventHash of src/store/audit.ts. */
function insertChain(
  db: Database.Database,
  events: { action: string; actor: string; mailbox: string; message_id?: string; email_id?: string; at: number; detail?: Record<string, unknown> }[],
) {
  let prev = '0'.repeat(64);
  events.forEach((e, i) => {
    const event = {
      event_id: `evt_v2event${String(i).padStart(10, '0')}`,
      at: e.at,
      actor: e.actor,
      action: e.action as never,
      mailbox: e.mailbox,
      message_id: e.message_id ?? null,
      email_id: e.email_id ?? null,
      detail: e.detail ?? {},
    };
    const hash = eventHash(prev, event);
    db.prepare(`INSERT INTO audit_events (event_id, at, actor, action, mailbox, message_id, email_id, detail, prev_hash, hash)
                VALUES (@event_id, @at, @actor, @action, @mailbox, @message_id, @email_id, @detail, @prev, @hash)`).run({
      ...event,
      detail: JSON.stringify(event.detail),
      prev,
      hash,
    });
    prev = hash;
  });
}

/**
 * A database as version 2 left it: a gated mailbox with mail held, approved (not yet delivered), sent (with its
 * INBOX and Sent copies and a captured outside recipient) and rejected; a monitored mailbox with a queued send and
 * its notification; the audit chain of all of it.
 */
function createV2Database(path: string, extra?: (db: Database.Database) => void): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = OFF');
  db.exec(V2_SCHEMA);
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '2')").run();
  const mailbox = db.prepare(`INSERT INTO mailboxes (address, display_name, oversight_mode, mode_source, auto_approve_rules, pending_ttl_seconds,
      transport, created_at, updated_at) VALUES (?, ?, ?, 'config', ?, ?, 'sandbox', ?, ?)`);
  mailbox.run(ALICE, 'Alice', 'gated_send', '[{"type":"reply"}]', TTL_S, T0, T0);
  mailbox.run(BOB, null, 'monitored', '[]', 60, T0, T0);
  insertMessage(db, {
    id: ID.pending,
    ...PENDING_CONTENT,
    text: PENDING_CONTENT.text!,
    status: 'pending',
    created_at: T0 + 1,
    expires_at: T0 + 1 + TTL_S * 1000,
    idempotency_key: RETRY_KEY,
  });
  insertMessage(db, {
    id: ID.approved,
    status: 'approved',
    to: [BOB, OUTSIDER],
    subject: 'Approved, not yet sent',
    created_at: T0 + 2,
    decided_at: T0 + 3,
    decided_by: 'reviewer:v2',
    next_attempt_at: T0 + 3,
  });
  insertMessage(db, {
    id: ID.sent,
    status: 'sent',
    to: [BOB, OUTSIDER],
    subject: 'Sent by version two',
    created_at: T0 + 4,
    decided_at: T0 + 4,
    decided_by: 'reviewer:v2',
    attempts: 1,
    next_attempt_at: T0 + 4,
    transmitting_at: T0 + 5,
    smtp_response: 'sandbox',
    sent_at: T0 + 6,
  });
  insertMessage(db, {
    id: ID.rejected,
    status: 'rejected',
    to: [OUTSIDER],
    subject: 'Off-brand',
    created_at: T0 + 7,
    decided_at: T0 + 8,
    decided_by: 'reviewer:v2',
    decision_reason: 'off-brand',
  });
  insertMessage(db, {
    id: ID.queued,
    mailbox: BOB,
    status: 'queued',
    to: [ALICE],
    subject: 'Monitored and queued',
    created_at: T0 + 9,
    mode: 'monitored',
    gate_code: 'mode_allows',
    gate_reason: 'monitored mode sends at once and notifies',
    notify: 1,
    next_attempt_at: T0 + 9,
  });
  const email = db.prepare(`INSERT INTO emails (email_id, mailbox, folder, source, from_addr, to_addrs, cc_addrs, subject, text_body,
      message_id_header, flags, unread, outbound_message_id, delivery_role, date, received_at)
    VALUES (?, ?, ?, 'sandbox', ?, ?, '[]', 'Sent by version two', 'Body two', ?, ?, ?, ?, ?, ?, ?)`);
  email.run(INBOX_COPY, BOB, 'INBOX', ALICE, JSON.stringify([BOB, OUTSIDER]), `<${ID.sent}@sandbox.test>`, '[]', 1, ID.sent, 'inbox', T0 + 6, T0 + 6);
  email.run(SENT_COPY, ALICE, 'Sent', ALICE, JSON.stringify([BOB, OUTSIDER]), `<${ID.sent}@sandbox.test>`, '["\\\\Seen"]', 0, ID.sent, 'sent', T0 + 6, T0 + 6);
  db.prepare('INSERT INTO captured_mail (message_id, recipient, captured_at) VALUES (?, ?, ?)').run(ID.sent, OUTSIDER, T0 + 6);
  db.prepare(`INSERT INTO notifications (notification_id, type, mailbox, message_id, payload, created_at)
              VALUES ('evt_v2notification000000', 'email.monitored', ?, ?, ?, ?)`).run(BOB, ID.queued, JSON.stringify({ message_id: ID.queued }), T0 + 9);
  insertChain(db, [
    { action: 'mailbox.created', actor: 'config', mailbox: ALICE, at: T0, detail: { oversight_mode: 'gated_send' } },
    { action: 'mailbox.created', actor: 'config', mailbox: BOB, at: T0, detail: { oversight_mode: 'monitored' } },
    { action: 'message.held', actor: 'agent:v2', mailbox: ALICE, message_id: ID.pending, at: T0 + 1, detail: { to: [BOB] } },
    { action: 'message.held', actor: 'agent:v2', mailbox: ALICE, message_id: ID.approved, at: T0 + 2 },
    { action: 'message.approved', actor: 'reviewer:v2', mailbox: ALICE, message_id: ID.approved, at: T0 + 3, detail: { reason: null } },
    { action: 'message.held', actor: 'agent:v2', mailbox: ALICE, message_id: ID.sent, at: T0 + 4 },
    { action: 'message.approved', actor: 'reviewer:v2', mailbox: ALICE, message_id: ID.sent, at: T0 + 4 },
    { action: 'message.sent', actor: 'system:delivery', mailbox: ALICE, message_id: ID.sent, at: T0 + 6, detail: { attempt: 1 } },
    { action: 'message.held', actor: 'agent:v2', mailbox: ALICE, message_id: ID.rejected, at: T0 + 7 },
    { action: 'message.rejected', actor: 'reviewer:v2', mailbox: ALICE, message_id: ID.rejected, at: T0 + 8, detail: { reason: 'off-brand' } },
    { action: 'message.submitted', actor: 'agent:v2', mailbox: BOB, message_id: ID.queued, at: T0 + 9 },
    { action: 'message.notified', actor: 'system:monitor', mailbox: BOB, message_id: ID.queued, at: T0 + 9, detail: { event: 'email.monitored' } },
    { action: 'email.read', actor: 'agent:bob', mailbox: BOB, email_id: INBOX_COPY, at: T0 + 10, detail: { folder: 'INBOX' } },
  ]);
  extra?.(db);
  db.close();
}
const V2_EVENTS = 13;

/** Every row of every version-2 table (bar meta, notifications and the FTS index), by the columns version 2 had. */
function snapshotV2(db: Database.Database): Record<string, unknown[]> {
  const v2 = new Database(':memory:');
  v2.exec(V2_SCHEMA);
  const tables = v2
    .prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'emails_fts%' AND name NOT IN ('meta', 'notifications')",
    )
    .pluck()
    .all() as string[];
  const out = Object.fromEntries(
    tables.map((table) => {
      const cols = (v2.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(table) as string[]).map((c) => `"${c}"`).join(', ');
      const rows = db
        .prepare(`SELECT ${cols} FROM ${table}`)
        .all()
        .map((r) => JSON.stringify(r))
        .sort();
      return [table, rows];
    }),
  );
  v2.close();
  return out;
}

let t: ReturnType<typeof sqliteDb>;
let before: Record<string, unknown[]>;
beforeEach(() => {
  t = sqliteDb();
  createV2Database(t.path);
  const raw = new Database(t.path, { readonly: true });
  before = snapshotV2(raw);
  raw.close();
});
afterEach(async () => {
  await t.close();
});

const row = (s: SqliteStore, table: string, where: string, ...params: unknown[]) =>
  s.db.prepare(`SELECT * FROM ${table} WHERE ${where}`).get(...params) as Record<string, unknown>;

describe('the version-2 fixture', () => {
  it('really is version 2: old CHECK lists, a notifications table, none of the version-3 columns or tables', () => {
    const db = new Database(t.path, { readonly: true });
    expect(schemaVersionOf(db)).toEqual(['2']);
    expect(db.prepare("SELECT name FROM pragma_table_info('messages')").pluck().all()).not.toContain('approved_hash');
    expect(db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'messages'").pluck().get()).not.toContain('rate_limited');
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name IN ('notifications', 'tokens', 'webhook_events')").pluck().get()).toBe(1);
    expect(Object.values(before).flat().length).toBe(2 + 5 + 2 + 1 + V2_EVENTS);
    db.close();
  });
});

describe('opening a version-2 database', () => {
  it('migrates it to the current version, drops notifications and ends with the schema of a fresh database', () => {
    const s = t.open();
    expect(SCHEMA_VERSION).toBe(8);
    expect(schemaVersionOf(s.db)).toEqual(['8']);
    expect(s.db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'notifications'").pluck().get()).toBe(0);
    const fresh = t.open();
    const freshFile = new SqliteStore(t.dir.file('fresh.db'));
    try {
      expect(schemaShape(s.db)).toEqual(schemaShape(freshFile.db));
      expect(schemaShape(fresh.db)).toEqual(schemaShape(s.db));
    } finally {
      void freshFile.close();
    }
  });

  it('keeps every version-2 row and column as it was, audit seq numbers included', () => {
    const s = t.open();
    expect(snapshotV2(s.db)).toEqual(before);
    expect(s.db.prepare('SELECT seq FROM audit_events ORDER BY seq').pluck().all()).toEqual(Array.from({ length: V2_EVENTS }, (_, i) => i + 1));
  });

  it('fills the new columns: the approved hash of decided-to-send mail, a thread per message, empty policy and attachments', async () => {
    const s = t.open();
    for (const id of Object.values(ID)) {
      const m = (await s.getMessage(id))!;
      expect(m.approved_hash, m.status).toBe(['approved', 'sent', 'queued'].includes(m.status) ? m.content_hash : null);
      expect(m).toMatchObject({ thread_key: `<${id}@sandbox.test>`, policy_hits: [], attachments: [] });
    }
    expect(await s.getMailbox(ALICE)).toMatchObject({ policy: {}, auto_approve_rules: [{ type: 'reply' }], display_name: 'Alice' });
    expect(await s.getMessage(ID.rejected)).toMatchObject({ status: 'rejected', decision_reason: 'off-brand', decided_by: 'reviewer:v2' });
  });

  it('keeps captured_mail pointing at its message, with every foreign key intact', () => {
    const s = t.open();
    expect(s.db.prepare('PRAGMA foreign_key_check').all()).toEqual([]);
    expect(s.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(s.db.prepare('SELECT c.recipient, m.status FROM captured_mail c JOIN messages m USING (message_id)').all()).toEqual([
      { recipient: OUTSIDER, status: 'sent' },
    ]);
    // The rebuilt messages table is still the parent: deleting a referenced message is refused.
    expect(() => s.db.prepare('DELETE FROM messages WHERE message_id = ?').run(ID.sent)).toThrow(/FOREIGN KEY constraint failed/);
  });

  it('the rebuilt audit chain verifies, and its append-only triggers are back and refuse UPDATE and DELETE', async () => {
    const s = t.open();
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: V2_EVENTS });
    expect(s.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = 'audit_events' ORDER BY name").pluck().all()).toEqual([
      'audit_events_no_delete',
      'audit_events_no_update',
    ]);
    expect(() => s.db.prepare("UPDATE audit_events SET actor = 'reviewer:forger' WHERE seq = 5").run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit_events WHERE seq = 1').run()).toThrow(/append-only/);
    expect(() => s.db.prepare('DELETE FROM audit_events').run()).toThrow(/append-only/);
    expect(snapshotV2(s.db).audit_events).toEqual(before.audit_events);
  });

  it('new events continue the chain at the next seq, in the old and the new vocabulary', async () => {
    const s = t.open();
    await addMailbox(s, CAROL, 'gated_send', { now: T0 + 20 });
    await s.driver.tx((q) => appendAudit(q, { actor: OUTSIDER, action: 'token.created', detail: { name: 'ci' } }, T0 + 21));
    const [token] = await s.audit({ limit: 1 });
    const rows = s.db.prepare('SELECT seq, action, prev_hash, hash FROM audit_events WHERE seq >= ? ORDER BY seq').all(V2_EVENTS) as {
      seq: number;
      action: string;
      prev_hash: string;
      hash: string;
    }[];
    expect(rows.map((r) => [r.seq, r.action])).toEqual([
      [V2_EVENTS, 'email.read'],
      [V2_EVENTS + 1, 'mailbox.created'],
      [V2_EVENTS + 2, 'token.created'],
    ]);
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(token).toMatchObject({ seq: V2_EVENTS + 2, prev_hash: rows[1]!.hash });
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: V2_EVENTS + 2 });
  });

  it('the widened gate_code CHECK accepts the policy codes and still refuses a code outside the vocabulary', async () => {
    const s = t.open();
    const setCode = (code: string) => () => s.db.prepare('UPDATE messages SET gate_code = ? WHERE message_id = ?').run(code, ID.rejected);
    expect(setCode('rate_limited')).not.toThrow();
    expect(setCode('hold_secret')).not.toThrow();
    expect(setCode('teleported')).toThrow(/CHECK constraint failed/);
    expect(row(s, 'messages', 'message_id = ?', ID.rejected).gate_code).toBe('hold_secret');
    // Through the real gate: the second identical draft is blocked as a duplicate, a code version 2 could not store.
    const c = content({ to: [BOB], subject: 'twice after the upgrade' });
    expect((await submit(s, ALICE, c, { now: T0 + 30 })).message.status).toBe('pending');
    expect((await submit(s, ALICE, c, { now: T0 + 31 })).message).toMatchObject({ status: 'blocked', gate_code: 'duplicate' });
  });

  it('an agent retrying its version-2 send with the same idempotency key gets the same message back, not a conflict', async () => {
    const s = t.open();
    const r = await submit(s, ALICE, PENDING_CONTENT, { key: RETRY_KEY, now: T0 + 40 });
    expect(r).toMatchObject({ replayed: true, message: { message_id: ID.pending, status: 'pending' } });
  });

  it('mail held by version 2 can still be approved or rejected, and mail approved by it is delivered once', async () => {
    const s = t.open();
    const now = T0 + 50;
    expect(await s.decideMessage(ID.pending, { action: 'approve', actor: 'reviewer:v3' }, now)).toMatchObject({ status: 'approved' });
    await sandboxWorker(s, () => now).tick();
    for (const id of [ID.pending, ID.approved, ID.queued]) expect((await s.getMessage(id))!.status, id).toBe('sent');
    expect(await deliveredCopies(s, ID.pending)).toEqual({ inbox: 1, sent: 1, captured: 0, sent_events: 1 });
    expect(await deliveredCopies(s, ID.approved)).toEqual({ inbox: 1, sent: 1, captured: 1, sent_events: 1 });
    // What version 2 already sent is not sent again; what it rejected never goes.
    expect(await deliveredCopies(s, ID.sent)).toEqual({ inbox: 1, sent: 1, captured: 1, sent_events: 1 });
    expect(await deliveredCopies(s, ID.rejected)).toEqual({ inbox: 0, sent: 0, captured: 0, sent_events: 0 });
    expect(await s.getEmail(INBOX_COPY)).toMatchObject({ mailbox: BOB, subject: 'Sent by version two' });
    expect(await s.verifyAudit()).toMatchObject({ ok: true });
  });

  it('opening the migrated file again, from another connection, changes nothing', async () => {
    const first = t.open();
    const shape = schemaShape(first.db);
    const events = await auditCount(first);
    const second = t.open();
    expect(schemaShape(second.db)).toEqual(shape);
    expect(await auditCount(second)).toBe(events);
    expect(snapshotV2(second.db)).toEqual(before);
  });
});

describe('a migration that cannot finish', () => {
  it('a broken foreign key found before the commit rolls the whole migration back, leaving version 2 as it was', () => {
    const local = sqliteDb();
    try {
      createV2Database(local.path, (db) => {
        db.prepare('INSERT INTO captured_mail (message_id, recipient, captured_at) VALUES (?, ?, ?)').run('msg_vanished0000000000000', OUTSIDER, T0);
      });
      expect(() => local.open()).toThrow(/broken foreign key/);
      const db = new Database(local.path, { readonly: true });
      expect(schemaVersionOf(db)).toEqual(['2']);
      expect(
        db.prepare("SELECT count(*) FROM sqlite_schema WHERE name IN ('notifications', 'audit_events_no_update', 'audit_events_no_delete')").pluck().get(),
      ).toBe(3);
      expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name LIKE '%_rebuild' OR name = 'tokens'").pluck().get()).toBe(0);
      expect(db.prepare("SELECT name FROM pragma_table_info('messages')").pluck().all()).not.toContain('approved_hash');
      expect(db.prepare('SELECT count(*) FROM audit_events').pluck().get()).toBe(V2_EVENTS);
      db.close();
    } finally {
      void local.close();
    }
  });
});

describe('several processes opening the version-2 file at once', () => {
  let threads: ReturnType<typeof threadRunner>;
  beforeAll(() => {
    threads = threadRunner();
  });
  afterAll(() => threads.cleanup());

  it('migrate it exactly once: every one opens it, and the rows and the chain are intact', async () => {
    const outs = await threads.run<string | number>(
      t.path,
      Array.from({ length: 4 }, () => ({ task: 'open' as const })),
    );
    expect(outs).toEqual(Array.from({ length: 4 }, () => ['wal', 2]));
    const s = t.open();
    expect(schemaVersionOf(s.db)).toEqual(['8']);
    expect(snapshotV2(s.db)).toEqual(before);
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: V2_EVENTS });
  });
});
