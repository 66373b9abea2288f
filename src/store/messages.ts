/**
 * The outbound message aggregate: rows and the guarded transitions of the lifecycle, whose allowed from-states
 * come from src/gate/lifecycle.ts (TRANSITIONS, RESOLUTIONS, CLAIMABLE) and nowhere else.
 */
import { CLAIMABLE, RESOLUTIONS, TRANSITIONS } from '../gate/lifecycle.js';
import type { PolicyHit } from '../gate/policy/index.js';
import type { MessageStatus } from '../values.js';
import { inScope, scopeParam } from './db.js';
import type { AttachmentMeta, MessageContent, MessageQuery, OutboundMessage, PendingPage, PendingQuery, StatusQuery, TagAction } from './message-types.js';
import { newSalt } from './personal-data.js';
import type { SqlTx } from './sql/types.js';

export type * from './message-types.js';

type Row = Record<string, unknown>;

/** Statuses as a SQL list (`'a', 'b'`): they come from the lifecycle tables, never from input. */
export const statusList = (statuses: readonly string[]) => statuses.map((s) => `'${s}'`).join(', ');

/** Mail still on its way: claimable, or claimed and being sent. */
export const IN_FLIGHT: readonly MessageStatus[] = [...CLAIMABLE, 'sending'];

const parse = <T>(v: unknown): T | null => (v === null || v === undefined ? null : (JSON.parse(String(v)) as T));

function messageFromRow(row: Row): OutboundMessage {
  // The audit salt stays in the database: it is the key to this message's hashed personal data. row_seq is
  // PostgreSQL's insertion order (Dialect.insertionOrder), a column SQLite's rowid does not show in SELECT *.
  const { pii_salt: _salt, row_seq: _seq, ...r } = row;
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

export async function insertMessageRow(q: SqlTx, m: OutboundMessage): Promise<void> {
  await q.run(
    `INSERT INTO messages (message_id, mailbox, kind, status, from_addr, to_addrs, cc_addrs, bcc_addrs, subject,
      text_body, html_body, tag_action, reply_to_email_id, message_id_header, in_reply_to_header, references_header,
      metadata, content_hash, idempotency_key, created_by, mode_at_submit, gate_code, gate_reason, gate_rule, notify,
      created_at, expires_at, next_attempt_at, updated_at, policy_hits, approved_hash, thread_key, attachments, pii_salt, dedupe_hash)
    VALUES (@message_id, @mailbox, @kind, @status, @from_addr, @to_addrs, @cc_addrs, @bcc_addrs, @subject,
      @text, @html, @tag_action, @reply_to_email_id, @message_id_header, @in_reply_to_header, @references_header,
      @metadata, @content_hash, @idempotency_key, @created_by, @mode_at_submit, @gate_code, @gate_reason, @gate_rule, @notify,
      @created_at, @expires_at, @next_attempt_at, @updated_at, @policy_hits, @approved_hash, @thread_key, @attachments, @pii_salt, @dedupe_hash)`,
    {
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
    },
  );
}

export async function getMessageRow(q: SqlTx, id: string): Promise<OutboundMessage | undefined> {
  const r = await q.get<Row>('SELECT * FROM messages WHERE message_id = ?', [id]);
  return r && messageFromRow(r);
}

export async function findByIdempotencyKey(q: SqlTx, mailbox: string, key: string): Promise<OutboundMessage | undefined> {
  const r = await q.get<Row>('SELECT * FROM messages WHERE mailbox = ? AND idempotency_key = ?', [mailbox, key]);
  return r && messageFromRow(r);
}

/** Every status from which `table` lets a message reach `to`. */
const fromStates = (table: Readonly<Partial<Record<MessageStatus, readonly MessageStatus[]>>>, to: MessageStatus) =>
  (Object.keys(table) as MessageStatus[]).filter((s) => table[s]?.includes(to));

/**
 * The from-states of a guarded UPDATE: `wanted` (a caller that means fewer, such as a decision, which only
 * takes pending mail), or else every state the table allows. A state the table does not allow is a
 * programming error, never a race, so it throws.
 */
function allowedFrom(table: Readonly<Partial<Record<MessageStatus, readonly MessageStatus[]>>>, wanted: readonly MessageStatus[] | null, to: MessageStatus) {
  const allowed = fromStates(table, to);
  const from = wanted ?? allowed;
  const bad = from.filter((s) => !allowed.includes(s));
  if (bad.length > 0 || from.length === 0) throw new Error(`lifecycle has no transition ${bad.join(', ') || '(none)'} -> ${to}`);
  return from;
}

/**
 * Moves a message from one of `from` (null: every state TRANSITIONS allows) to `to` with the extra columns set,
 * only if it is still in `from` (compare-and-set). Returns false when another process got there first.
 */
export function transition(
  q: SqlTx,
  id: string,
  from: readonly MessageStatus[] | null,
  to: MessageStatus,
  set: Row,
  now: number,
  guard: { where: string; params?: Row } = { where: '' },
): Promise<boolean> {
  return guardedUpdate(q, id, allowedFrom(TRANSITIONS, from, to), to, set, now, guard);
}

/** A person's resolution of an outcome nothing automatic may change (RESOLUTIONS), as a compare-and-set. */
export function resolveTransition(q: SqlTx, id: string, to: MessageStatus, set: Row, now: number): Promise<boolean> {
  return guardedUpdate(q, id, allowedFrom(RESOLUTIONS, null, to), to, set, now, { where: '' });
}

async function guardedUpdate(
  q: SqlTx,
  id: string,
  from: readonly MessageStatus[],
  to: MessageStatus,
  set: Row,
  now: number,
  guard: { where: string; params?: Row },
): Promise<boolean> {
  const cols = Object.keys(set).map((k) => `${k} = @${k}`);
  const sql = `UPDATE messages SET status = @to, updated_at = @now${cols.length ? `, ${cols.join(', ')}` : ''}
               WHERE message_id = @id AND status IN (${statusList(from)}) ${guard.where}`;
  return (await q.run(sql, { ...guard.params, ...set, id, to, now })).changes === 1;
}

/** What a metadata filter key may be: it becomes part of a JSON path (SQLite), so nothing that could quote out. */
const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * The WHERE terms every listing shares: one mailbox, the principal's mailboxes, metadata pairs. Keys and values
 * are bound, never spliced into the text. Values compare as JSON scalars on both backends: SQLite matches the
 * JSON type and the value (json_extract alone reads true as 1), PostgreSQL compares jsonb, which does both.
 */
function filterTerms(q: SqlTx, opts: Omit<PendingQuery, 'now' | 'limit' | 'cursor'>, where: string[], params: Row): void {
  if (opts.mailbox) {
    where.push('mailbox = @mailbox');
    params.mailbox = opts.mailbox;
  }
  if (opts.mailboxes) {
    where.push(inScope(q.dialect));
    params.mailboxes = scopeParam(opts.mailboxes);
  }
  Object.entries(opts.metadata ?? {}).forEach(([key, value], i) => {
    if (!METADATA_KEY.test(key)) throw new Error('bad metadata key');
    params[`mv${i}`] = JSON.stringify(value);
    if (q.dialect.name === 'postgres') {
      params[`mk${i}`] = key;
      where.push(`(metadata::jsonb -> CAST(@mk${i} AS text)) = CAST(@mv${i} AS jsonb)`);
    } else {
      params[`mk${i}`] = `$."${key}"`;
      where.push(`json_type(metadata, @mk${i}) = json_type(@mv${i}) AND json_extract(metadata, @mk${i}) = json_extract(@mv${i}, '$')`);
    }
  });
}

/** One keyset page: `ORDER BY created_at, message_id` ascending or descending, resumed after the cursor's row. */
async function page(q: SqlTx, where: string[], params: Row, opts: { limit: number; cursor?: string | undefined }, desc: boolean): Promise<PendingPage> {
  if (opts.cursor) {
    const [created, id] = decodeCursor(opts.cursor);
    where.push(`(created_at, message_id) ${desc ? '<' : '>'} (@c_created, @c_id)`);
    params.c_created = created;
    params.c_id = id;
  }
  const order = desc ? 'created_at DESC, message_id DESC' : 'created_at, message_id';
  const rows = await q.all<Row>(`SELECT * FROM messages WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT @limit`, { ...params, limit: opts.limit + 1 });
  const messages = rows.slice(0, opts.limit).map(messageFromRow);
  const last = messages[messages.length - 1];
  return { messages, next_cursor: rows.length > opts.limit && last ? encodeCursor(last.created_at, last.message_id) : null };
}

export async function listPendingRows(q: SqlTx, opts: PendingQuery): Promise<PendingPage> {
  const params: Row = { now: opts.now };
  // Mail past its expiry is no longer offered even before the worker's sweep has marked it expired.
  const where = ["status = 'pending'", 'expires_at > @now'];
  filterTerms(q, opts, where, params);
  return page(q, where, params, opts, false);
}

/** Recent mail in one status (or any), newest first: what happened to the drafts, not what waits. */
export async function listByStatusRows(q: SqlTx, opts: StatusQuery): Promise<PendingPage> {
  const params: Row = {};
  const where = ['1 = 1'];
  if (opts.status !== 'any') {
    where.push('status = @status');
    params.status = opts.status;
  }
  filterTerms(q, opts, where, params);
  return page(q, where, params, opts, true);
}

export function encodeCursor(created: number, id: string): string {
  return Buffer.from(`${created}:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  const m = /^(\d+):(msg_[A-Za-z0-9_-]+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!m) throw new Error('bad cursor');
  return [Number(m[1]), m[2]!];
}

export async function dueForExpiry(q: SqlTx, now: number, limit: number): Promise<OutboundMessage[]> {
  return (await q.all<Row>("SELECT * FROM messages WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?", [now, limit])).map(
    messageFromRow,
  );
}

/** Picks due messages to lease; the caller claims each with a compare-and-set transition to sending. */
export async function claimableRows(q: SqlTx, now: number, limit: number, mailboxes: readonly string[]): Promise<OutboundMessage[]> {
  if (mailboxes.length === 0) return [];
  const seq = q.dialect.insertionOrder;
  // Per-thread order: a message waits while an earlier one of its thread (earlier by insertion order,
  // exact even within one millisecond) is still on its way (approved, queued or sending), so replies in one
  // conversation go out in the order they were drafted. Held or finished
  // earlier messages do not block (a pending one may never be approved).
  return (
    await q.all<Row>(
      `SELECT * FROM messages m WHERE status IN (${statusList(CLAIMABLE)}) AND next_attempt_at <= ?
                    AND mailbox IN ${q.dialect.jsonList('?')}
                    AND (thread_key IS NULL OR NOT EXISTS (
                      SELECT 1 FROM messages e WHERE e.thread_key = m.thread_key AND e.status IN (${statusList(IN_FLIGHT)})
                        AND e.${seq} < m.${seq}))
                    ORDER BY created_at, message_id LIMIT ? ${q.dialect.skipLocked}`,
      [now, JSON.stringify(mailboxes), limit],
    )
  ).map(messageFromRow);
}

export async function expiredLeaseRows(q: SqlTx, now: number): Promise<OutboundMessage[]> {
  return (await q.all<Row>("SELECT * FROM messages WHERE status = 'sending' AND lease_until < ?", [now])).map(messageFromRow);
}

export async function countPending(q: SqlTx, mailbox: string): Promise<number> {
  return (await q.value<number>("SELECT count(*) FROM messages WHERE status = 'pending' AND mailbox = ?", [mailbox])) ?? 0;
}

export async function listMessageRows(q: SqlTx, query: MessageQuery): Promise<OutboundMessage[]> {
  return (
    await q.all<Row>(
      `SELECT * FROM messages WHERE (@mailbox IS NULL OR mailbox = @mailbox) AND created_at >= @since
                    AND (@mailboxes IS NULL OR ${inScope(q.dialect)})
                    ORDER BY created_at, message_id`,
      { mailbox: query.mailbox ?? null, since: query.since ?? 0, mailboxes: scopeParam(query.mailboxes) },
    )
  ).map(messageFromRow);
}

/** Mail this mailbox has actually sent in a thread (not drafts, which a model could seed), oldest first. */
export async function sentInThreadRows(q: SqlTx, mailbox: string, threadKey: string, limit: number): Promise<OutboundMessage[]> {
  return (
    await q.all<Row>(`SELECT * FROM messages WHERE mailbox = ? AND thread_key = ? AND status = 'sent' ORDER BY created_at LIMIT ?`, [mailbox, threadKey, limit])
  ).map(messageFromRow);
}

/**
 * How long people took to decide this mailbox's held mail (decided_at - created_at, ms), newest decisions
 * first: approvals and rejections by a person, not expiries, cancellations or anything decided by `system:`.
 */
export async function reviewDurationRows(q: SqlTx, mailbox: string, limit: number): Promise<number[]> {
  return q.column<number>(
    `SELECT decided_at - created_at FROM messages
      WHERE mailbox = ? AND decided_at IS NOT NULL AND decided_by IS NOT NULL AND decided_by NOT LIKE 'system:%'
        AND status NOT IN ('cancelled', 'expired', 'pending')
      ORDER BY decided_at DESC LIMIT ?`,
    [mailbox, limit],
  );
}
