/** The outbound message aggregate: rows and the guarded transitions of the lifecycle. */
import { CLAIMABLE } from '../gate/lifecycle.js';
import type { PolicyHit } from '../gate/policy/index.js';
import type { MessageStatus } from '../values.js';
import { type Db, IN_SCOPE, scopeParam, stmt } from './db.js';
import { newSalt } from './personal-data.js';

export type MessageKind = 'send' | 'reply';

/** A write on an inbound email (tag_email), held or applied as a mailbox action (src/store/mailbox-actions.ts). */
export interface TagAction {
  email_id: string;
  add_flags: string[];
  remove_flags: string[];
  move_to: string | null;
}

export interface MessageContent {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text: string | null;
  html: string | null;
}

/** An attachment as listed on a message: the bytes stay in message_attachments. */
export interface AttachmentMeta {
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
}

export interface AttachmentFile extends AttachmentMeta {
  content: Buffer;
}

export interface OutboundMessage extends MessageContent {
  message_id: string;
  mailbox: string;
  kind: MessageKind;
  status: MessageStatus;
  from_addr: string;
  tag_action: TagAction | null;
  reply_to_email_id: string | null;
  message_id_header: string;
  in_reply_to_header: string | null;
  references_header: string | null;
  metadata: Record<string, unknown> | null;
  content_hash: string;
  idempotency_key: string | null;
  created_by: string;
  mode_at_submit: string;
  gate_code: string;
  gate_reason: string;
  gate_rule: string | null;
  notify: boolean;
  created_at: number;
  expires_at: number | null;
  decided_at: number | null;
  decided_by: string | null;
  decision_reason: string | null;
  original_content: MessageContent | null;
  attempts: number;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  transmitting_at: number | null;
  smtp_response: string | null;
  sent_at: number | null;
  updated_at: number;
  policy_hits: PolicyHit[];
  /** The content hash that was approved (by a reviewer, or by the gate for mail that went straight out). */
  approved_hash: string | null;
  thread_key: string | null;
  attachments: AttachmentMeta[];
  /** The content hash with recipient lists sorted, for duplicate detection (null for held writes and old rows). */
  dedupe_hash: string | null;
  /** Attachment bytes, loaded by the delivery worker just before sending; never part of a row. */
  files?: readonly AttachmentFile[];
}

type Row = Record<string, unknown>;

const parse = <T>(v: unknown): T | null => (v === null || v === undefined ? null : (JSON.parse(String(v)) as T));

function messageFromRow(row: Row): OutboundMessage {
  // The audit salt stays in the database: it is the key to this message's hashed personal data.
  const { pii_salt: _salt, ...r } = row;
  return {
    ...(r as unknown as OutboundMessage),
    to: parse<string[]>(r.to_addrs) ?? [],
    cc: parse<string[]>(r.cc_addrs) ?? [],
    bcc: parse<string[]>(r.bcc_addrs) ?? [],
    text: (r.text_body as string | null) ?? null,
    html: (r.html_body as string | null) ?? null,
    tag_action: parse<TagAction>(r.tag_action),
    metadata: parse<Record<string, unknown>>(r.metadata),
    original_content: parse<MessageContent>(r.original_content),
    notify: r.notify === 1,
    policy_hits: parse<PolicyHit[]>(r.policy_hits) ?? [],
    attachments: parse<AttachmentMeta[]>(r.attachments) ?? [],
  };
}

export function insertMessageRow(db: Db, m: OutboundMessage): void {
  stmt(
    db,
    `INSERT INTO messages (message_id, mailbox, kind, status, from_addr, to_addrs, cc_addrs, bcc_addrs, subject,
      text_body, html_body, tag_action, reply_to_email_id, message_id_header, in_reply_to_header, references_header,
      metadata, content_hash, idempotency_key, created_by, mode_at_submit, gate_code, gate_reason, gate_rule, notify,
      created_at, expires_at, next_attempt_at, updated_at, policy_hits, approved_hash, thread_key, attachments, pii_salt, dedupe_hash)
    VALUES (@message_id, @mailbox, @kind, @status, @from_addr, @to_addrs, @cc_addrs, @bcc_addrs, @subject,
      @text, @html, @tag_action, @reply_to_email_id, @message_id_header, @in_reply_to_header, @references_header,
      @metadata, @content_hash, @idempotency_key, @created_by, @mode_at_submit, @gate_code, @gate_reason, @gate_rule, @notify,
      @created_at, @expires_at, @next_attempt_at, @updated_at, @policy_hits, @approved_hash, @thread_key, @attachments, @pii_salt, @dedupe_hash)`,
  ).run({
    ...m,
    pii_salt: newSalt(),
    files: undefined,
    policy_hits: JSON.stringify(m.policy_hits),
    attachments: JSON.stringify(m.attachments),
    to_addrs: JSON.stringify(m.to),
    cc_addrs: JSON.stringify(m.cc),
    bcc_addrs: JSON.stringify(m.bcc),
    tag_action: m.tag_action && JSON.stringify(m.tag_action),
    metadata: m.metadata && JSON.stringify(m.metadata),
    notify: m.notify ? 1 : 0,
  });
}

export function getMessageRow(db: Db, id: string): OutboundMessage | undefined {
  const r = stmt(db, 'SELECT * FROM messages WHERE message_id = ?').get(id) as Row | undefined;
  return r && messageFromRow(r);
}

export function findByIdempotencyKey(db: Db, mailbox: string, key: string): OutboundMessage | undefined {
  const r = stmt(db, 'SELECT * FROM messages WHERE mailbox = ? AND idempotency_key = ?').get(mailbox, key) as Row | undefined;
  return r && messageFromRow(r);
}

/**
 * Moves a message from one of `from` to `to` with the extra columns set, only if it is still in `from`
 * (compare-and-set). Returns false when another process got there first.
 */
export function transition(
  db: Db,
  id: string,
  from: readonly MessageStatus[],
  to: MessageStatus,
  set: Row,
  now: number,
  guard: { where: string; params?: Row } = { where: '' },
): boolean {
  const cols = Object.keys(set).map((k) => `${k} = @${k}`);
  const sql = `UPDATE messages SET status = @to, updated_at = @now${cols.length ? `, ${cols.join(', ')}` : ''}
               WHERE message_id = @id AND status IN (${from.map((s) => `'${s}'`).join(', ')}) ${guard.where}`;
  return stmt(db, sql).run({ ...guard.params, ...set, id, to, now }).changes === 1;
}

export interface PendingPage {
  messages: OutboundMessage[];
  next_cursor: string | null;
}

/** Pending messages oldest first, paged by (created_at, message_id) keyset so a page costs the same at any depth. */
/** `mailboxes` limits the page to a principal's mailboxes (src/services/scope.ts). */
export interface PendingQuery {
  mailbox?: string | undefined;
  mailboxes?: readonly string[] | undefined;
  limit: number;
  cursor?: string | undefined;
  now: number;
}

export interface MessageQuery {
  mailbox?: string | undefined;
  mailboxes?: readonly string[] | undefined;
  since?: number | undefined;
}

export function listPendingRows(db: Db, opts: PendingQuery): PendingPage {
  const params: Row = { limit: opts.limit + 1, now: opts.now };
  // Mail past its expiry is no longer offered even before the worker's sweep has marked it expired.
  const where = ["status = 'pending'", 'expires_at > @now'];
  if (opts.mailbox) {
    where.push('mailbox = @mailbox');
    params.mailbox = opts.mailbox;
  }
  if (opts.mailboxes) {
    where.push(IN_SCOPE);
    params.mailboxes = scopeParam(opts.mailboxes);
  }
  if (opts.cursor) {
    const [created, id] = decodeCursor(opts.cursor);
    where.push('(created_at, message_id) > (@c_created, @c_id)');
    params.c_created = created;
    params.c_id = id;
  }
  const rows = stmt(db, `SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY created_at, message_id LIMIT @limit`).all(params) as Row[];
  const messages = rows.slice(0, opts.limit).map(messageFromRow);
  const last = messages[messages.length - 1];
  return { messages, next_cursor: rows.length > opts.limit && last ? encodeCursor(last.created_at, last.message_id) : null };
}

export function encodeCursor(created: number, id: string): string {
  return Buffer.from(`${created}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  const m = /^(\d+):(msg_[A-Za-z0-9_-]+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new Error('bad cursor');
  return [Number(m[1]), m[2]!];
}

export function dueForExpiry(db: Db, now: number, limit: number): OutboundMessage[] {
  return (stmt(db, "SELECT * FROM messages WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?").all(now, limit) as Row[]).map(
    messageFromRow,
  );
}

export function claimableRows(db: Db, now: number, limit: number, mailboxes: readonly string[]): OutboundMessage[] {
  if (mailboxes.length === 0) return [];
  const statuses = CLAIMABLE.map((s) => `'${s}'`).join(', ');
  // Per-thread order: a message waits while an earlier one of its thread (earlier by rowid: insertion order,
  // exact even within one millisecond) is still on its way (approved, queued or sending), so replies in one
  // conversation go out in the order they were drafted. Held or finished
  // earlier messages do not block (a pending one may never be approved).
  return (
    stmt(
      db,
      `SELECT * FROM messages m WHERE status IN (${statuses}) AND next_attempt_at <= ?
                    AND mailbox IN (SELECT value FROM json_each(?))
                    AND (thread_key IS NULL OR NOT EXISTS (
                      SELECT 1 FROM messages e WHERE e.thread_key = m.thread_key AND e.status IN ('approved', 'queued', 'sending')
                        AND e.rowid < m.rowid))
                    ORDER BY created_at, message_id LIMIT ?`,
    ).all(now, JSON.stringify(mailboxes), limit) as Row[]
  ).map(messageFromRow);
}

export function expiredLeaseRows(db: Db, now: number): OutboundMessage[] {
  return (stmt(db, "SELECT * FROM messages WHERE status = 'sending' AND lease_until < ?").all(now) as Row[]).map(messageFromRow);
}

export function countPending(db: Db, mailbox: string): number {
  return stmt(db, "SELECT count(*) FROM messages WHERE status = 'pending' AND mailbox = ?", true).get(mailbox) as number;
}

export function listMessageRows(db: Db, q: MessageQuery): OutboundMessage[] {
  return (
    stmt(
      db,
      `SELECT * FROM messages WHERE (@mailbox IS NULL OR mailbox = @mailbox) AND created_at >= @since
                    AND (@mailboxes IS NULL OR ${IN_SCOPE})
                    ORDER BY created_at, message_id`,
    ).all({ mailbox: q.mailbox ?? null, since: q.since ?? 0, mailboxes: scopeParam(q.mailboxes) }) as Row[]
  ).map(messageFromRow);
}

/** Mail this mailbox has actually sent in a thread (not drafts, which a model could seed), oldest first. */
export function sentInThreadRows(db: Db, mailbox: string, threadKey: string, limit: number): OutboundMessage[] {
  return (
    stmt(db, `SELECT * FROM messages WHERE mailbox = ? AND thread_key = ? AND status = 'sent' ORDER BY created_at LIMIT ?`).all(
      mailbox,
      threadKey,
      limit,
    ) as Row[]
  ).map(messageFromRow);
}
