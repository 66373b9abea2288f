/**
 * Upgrading a version-1 database (fixtures/schema-v1.sql, the schema.sql of 8af1ad1) through every migration
 * to the current version: the migrations add the new columns before schema.sql creates what depends on them,
 * and nothing written by version 1 is lost, unindexed or unverifiable afterwards. Version 2 to 3 in detail:
 * migrations-v2.test.ts.
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { ALICE, BOB, OUTSIDER, T0, content, submit } from './fixtures.js';
import { schemaShape, schemaVersionOf, sqliteDb } from './sqlite-fixtures.js';

const V1_SCHEMA = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'schema-v1.sql'), 'utf8');

const SENT_ID = 'msg_v1sent000000000000000';
const SENDING_ID = 'msg_v1sending00000000000';
const EMAIL_ID = 'em_v1email00000000000000';

/**
 * The version-1 audit chain, computed here rather than with src/store/audit.ts, so a change to how the
 * current code hashes cannot hide that old chains no longer verify: sha256(prev_hash || canonical JSON).
 */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}

function insertV1Audit(
  db: Database.Database,
  events: { actor: string; action: string; mailbox: string; message_id?: string; email_id?: string; detail: Record<string, unknown>; at: number }[],
) {
  let prev = '0'.repeat(64);
  events.forEach((e, i) => {
    const event = {
      event_id: `evt_v1event${String(i).padStart(10, '0')}`,
      at: e.at,
      actor: e.actor,
      action: e.action,
      mailbox: e.mailbox,
      message_id: e.message_id ?? null,
      email_id: e.email_id ?? null,
      detail: e.detail,
    };
    const hash = createHash('sha256').update(prev).update(canonical(event)).digest('hex');
    db.prepare(`INSERT INTO audit_events (event_id, at, actor, action, mailbox, message_id, email_id, detail, prev_hash, hash)
                VALUES (@event_id, @at, @actor, @action, @mailbox, @message_id, @email_id, @detail, @prev, @hash)`).run({
      ...event,
      detail: JSON.stringify(e.detail),
      prev,
      hash,
    });
    prev = hash;
  });
}

/** A database exactly as version 1 left it: one mailbox, a sent and an in-flight message, one email, their events. */
function createV1Database(path: string): void {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(V1_SCHEMA);
  db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '1')").run();
  db.prepare(`INSERT INTO mailboxes (address, display_name, oversight_mode, mode_source, auto_approve_rules, pending_ttl_seconds, transport, created_at, updated_at)
              VALUES (?, 'Alice', 'gated_send', 'config', '[]', 3600, 'sandbox', ?, ?)`).run(ALICE, T0, T0);
  const message = db.prepare(`INSERT INTO messages (message_id, mailbox, kind, status, from_addr, to_addrs, cc_addrs, bcc_addrs, subject,
      text_body, message_id_header, content_hash, created_by, mode_at_submit, gate_code, gate_reason, created_at, decided_at, decided_by,
      attempts, next_attempt_at, lease_owner, lease_until, sent_at, updated_at)
    VALUES (@id, @mailbox, 'send', @status, @mailbox, @to, '[]', '[]', @subject, 'Body', @header, 'hash-v1', 'agent:v1', 'gated_send',
      'mode_requires_approval', 'held for review', @t, @t, 'reviewer:v1', 1, @t, @owner, @lease, @sent, @t)`);
  message.run({
    id: SENT_ID,
    mailbox: ALICE,
    status: 'sent',
    to: JSON.stringify([BOB]),
    subject: 'Sent by version one',
    header: '<v1sent@sandbox.test>',
    t: T0,
    owner: null,
    lease: null,
    sent: T0 + 5,
  });
  message.run({
    id: SENDING_ID,
    mailbox: ALICE,
    status: 'sending',
    to: JSON.stringify([OUTSIDER]),
    subject: 'In flight at upgrade',
    header: '<v1sending@sandbox.test>',
    t: T0,
    owner: 'worker_v1',
    lease: T0 + 60_000,
    sent: null,
  });
  db.prepare(`INSERT INTO emails (email_id, mailbox, folder, source, from_addr, from_name, to_addrs, cc_addrs, subject, text_body,
      message_id_header, flags, unread, date, received_at)
    VALUES (?, ?, 'INBOX', 'sandbox', 'zelda@sandbox.test', 'Zelda Quartermaine', ?, '[]', 'Invoice for the harbour project', ?,
      '<v1email@sandbox.test>', '[]', 1, ?, ?)`).run(EMAIL_ID, ALICE, JSON.stringify([ALICE]), 'Please find the pelican numbers attached.', T0 + 1, T0 + 1);
  insertV1Audit(db, [
    { at: T0, actor: 'operator:v1', action: 'mailbox.created', mailbox: ALICE, detail: { oversight_mode: 'gated_send', transport: 'sandbox' } },
    { at: T0, actor: 'agent:v1', action: 'message.held', mailbox: ALICE, message_id: SENT_ID, detail: { subject: 'Sent by version one', to: [BOB] } },
    { at: T0, actor: 'reviewer:v1', action: 'message.approved', mailbox: ALICE, message_id: SENT_ID, detail: { reason: null, edited: false } },
    { at: T0 + 5, actor: 'system:delivery', action: 'message.sent', mailbox: ALICE, message_id: SENT_ID, detail: { attempt: 1 } },
    { at: T0 + 6, actor: 'agent:v1', action: 'email.read', mailbox: ALICE, email_id: EMAIL_ID, detail: { folder: 'INBOX' } },
  ]);
  db.close();
}

let t: ReturnType<typeof sqliteDb>;
beforeEach(() => {
  t = sqliteDb();
  createV1Database(t.path);
});
afterEach(async () => {
  await t.close();
});

const columns = (s: SqliteStore, table: string) =>
  s.db.prepare(`SELECT name, type, "notnull", dflt_value FROM pragma_table_info(?) ORDER BY name`).all(table) as Record<string, unknown>[];
const objects = (s: SqliteStore) => s.db.prepare("SELECT type, name, tbl_name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();

describe('opening a version-1 database', () => {
  it('the fixture really is version 1: no version-2 columns or tables', () => {
    const db = new Database(t.path);
    const cols = db.prepare("SELECT name FROM pragma_table_info('emails')").pluck().all();
    expect(cols).not.toContain('has_body');
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name IN ('emails_fts', 'imap_folders')").pluck().get()).toBe(0);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('1');
    db.close();
  });

  it('brings it to the current version with the columns, tables, index and triggers of versions 2 and 3', () => {
    const s = t.open();
    expect(SCHEMA_VERSION).toBe(8);
    expect(schemaVersionOf(s.db)).toEqual(['8']);
    const names = (table: string) => columns(s, table).map((c) => c.name);
    expect(names('messages')).toEqual(
      expect.arrayContaining(['transmitting_at', 'smtp_response', 'policy_hits', 'approved_hash', 'thread_key', 'attachments']),
    );
    expect(names('mailboxes')).toContain('policy');
    expect(names('emails')).toEqual(expect.arrayContaining(['uidvalidity', 'uid', 'size', 'has_body', 'attachments']));
    expect(names('imap_folders')).toEqual([
      'backfill_below',
      'folder',
      'highestmodseq',
      'mailbox',
      'messages',
      'special_use',
      'synced_at',
      'uidnext',
      'uidvalidity',
    ]);
    const schema = s.db.prepare("SELECT type || ':' || name FROM sqlite_schema").pluck().all();
    expect(schema).toEqual(
      expect.arrayContaining([
        'table:emails_fts',
        'index:emails_imap_uid',
        'index:emails_message_id',
        'trigger:emails_fts_insert',
        'trigger:emails_fts_delete',
        'trigger:emails_fts_update',
        'table:webhook_events',
        'table:approval_links',
        'trigger:audit_events_no_update',
        'trigger:audit_events_no_delete',
      ]),
    );
    expect(schema).not.toContain('table:notifications');
  });

  it('ends with the same tables, columns, constraints, indexes and triggers as a fresh database', () => {
    const migrated = t.open();
    const fresh = new SqliteStore(t.dir.file('fresh.db'));
    try {
      expect(schemaShape(migrated.db)).toEqual(schemaShape(fresh.db));
    } finally {
      void fresh.close();
    }
  });

  it('keeps every version-1 row, with emails marked as having their body', async () => {
    const s = t.open();
    expect(await s.getMailbox(ALICE)).toMatchObject({ address: ALICE, display_name: 'Alice', oversight_mode: 'gated_send', transport: 'sandbox' });
    expect(await s.getMessage(SENT_ID)).toMatchObject({
      status: 'sent',
      to: [BOB],
      subject: 'Sent by version one',
      text: 'Body',
      sent_at: T0 + 5,
      attempts: 1,
      transmitting_at: null,
      smtp_response: null,
    });
    expect(await s.getMessage(SENDING_ID)).toMatchObject({ status: 'sending', lease_owner: 'worker_v1', transmitting_at: null });
    expect(await s.getEmail(EMAIL_ID)).toMatchObject({
      email_id: EMAIL_ID,
      mailbox: ALICE,
      folder: 'INBOX',
      from_addr: 'zelda@sandbox.test',
      subject: 'Invoice for the harbour project',
      text: 'Please find the pelican numbers attached.',
      unread: true,
      has_body: true,
      attachments: [],
      uid: null,
      uidvalidity: null,
      size: null,
    });
    expect(s.db.prepare('SELECT has_body FROM emails WHERE email_id = ?').pluck().get(EMAIL_ID)).toBe(1);
  });

  it('moves a held tag write to mailbox_actions (an act_ id with the same random part), out of messages', async () => {
    const raw = new Database(t.path);
    raw
      .prepare(`INSERT INTO messages (message_id, mailbox, kind, status, from_addr, to_addrs, cc_addrs, bcc_addrs, subject, tag_action,
        message_id_header, content_hash, created_by, mode_at_submit, gate_code, gate_reason, created_at, expires_at, updated_at)
      VALUES ('msg_v1tagv1tagv1tag', ?, 'tag', 'pending', ?, '[]', '[]', '[]', 'to flag', ?, '<v1tag@sandbox.test>', 'h', 'agent:v1',
        'gated_all', 'mode_requires_approval', 'gated_all mode holds tag for approval', ?, ?, ?)`)
      .run(ALICE, ALICE, JSON.stringify({ email_id: EMAIL_ID, add_flags: ['\\Flagged'], remove_flags: [], move_to: null }), T0, T0 + 3_600_000, T0);
    raw.close();
    const s = t.open();
    expect(await s.getMessage('msg_v1tagv1tagv1tag')).toBeUndefined();
    expect(await s.getAction('act_v1tagv1tagv1tag')).toMatchObject({
      status: 'pending',
      mailbox: ALICE,
      email_id: EMAIL_ID,
      action: { add_flags: ['\\Flagged'] },
      created_by: 'agent:v1',
      expires_at: T0 + 3_600_000,
    });
    expect(() => s.db.prepare("UPDATE messages SET kind = 'tag' WHERE message_id = ?").run(SENT_ID)).toThrow(/CHECK/);
  });

  it('full-text search finds the version-1 email by subject, sender, name and text', async () => {
    const s = t.open();
    for (const query of ['harbour', 'invoice harb', 'zelda', 'Quartermaine', 'pelican numbers']) {
      expect(
        (await s.searchEmails({ mailbox: ALICE, query, limit: 10 })).map((e) => e.email_id),
        query,
      ).toEqual([EMAIL_ID]);
    }
    expect(await s.searchEmails({ mailbox: ALICE, query: 'walrus', limit: 10 })).toEqual([]);
  });

  it('leaves the full-text index consistent with the emails table', () => {
    const s = t.open();
    // FTS5 'integrity-check' with rank 1 compares the index against the external content table (emails).
    expect(() => s.db.prepare("INSERT INTO emails_fts (emails_fts, rank) VALUES ('integrity-check', 1)").run()).not.toThrow();
  });

  it('a version-1 email can still be reindexed and deleted after the upgrade', async () => {
    const s = t.open();
    // The FTS update and delete triggers remove the old row's terms from the index first; that must find them.
    await s.setEmailBody(EMAIL_ID, {
      text: 'The cormorant replaced the pelican.',
      html: null,
      references_header: null,
      in_reply_to_header: null,
      attachments: [],
    });
    expect((await s.searchEmails({ mailbox: ALICE, query: 'cormorant', limit: 10 })).map((e) => e.email_id)).toEqual([EMAIL_ID]);
    expect(() => s.db.prepare('DELETE FROM emails WHERE email_id = ?').run(EMAIL_ID)).not.toThrow();
    expect(await s.searchEmails({ mailbox: ALICE, query: 'cormorant', limit: 10 })).toEqual([]);
  });

  it('the version-1 audit chain still verifies, and new events extend it', async () => {
    const s = t.open();
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: 5 });
    const { message } = await submit(s, ALICE, content({ subject: 'after the upgrade' }), { now: T0 + 100 });
    expect(message.status).toBe('pending');
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: 6 });
  });

  it('an in-flight version-1 delivery is recovered like any other lease', async () => {
    const s = t.open();
    const seen: (number | null)[] = [];
    const out = await s.recoverLeases(T0 + 60_001, (m) => {
      seen.push(m.transmitting_at);
      return m.transmitting_at === null;
    });
    expect(seen).toEqual([null]);
    expect(out).toMatchObject([{ message_id: SENDING_ID, status: 'queued', transmitting_at: null }]);
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: 6 });
  });

  it('opening the upgraded file again, from another connection, changes nothing', async () => {
    const first = t.open();
    const before = objects(first);
    const second = t.open();
    expect(objects(second)).toEqual(before);
    expect(schemaVersionOf(second.db)).toEqual([String(SCHEMA_VERSION)]);
    expect((await second.getEmail(EMAIL_ID))?.has_body).toBe(true);
    expect(await second.verifyAudit()).toMatchObject({ ok: true, events: 5 });
  });
});

describe('a database from a newer mailgate', () => {
  it('is refused rather than opened with a schema this version does not know', () => {
    const db = new Database(t.path);
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION + 1));
    db.close();
    expect(() => t.open()).toThrow(`schema version ${SCHEMA_VERSION + 1}, newer than this mailgate understands (${SCHEMA_VERSION})`);
    // A catalogued error naming the file, not a plain Error.
    expect(() => t.open()).toThrow(expect.objectContaining({ code: 'STORE_TOO_NEW', message: expect.stringContaining(t.path) }));
    const check = new Database(t.path);
    expect(check.prepare("SELECT name FROM pragma_table_info('emails')").pluck().all()).not.toContain('has_body');
    check.close();
  });
});
