/**
 * The audit aggregate: append-only, hash-chained events. Appends happen inside the caller's transaction,
 * so a state change and its audit event commit together or not at all.
 */
import { createHash } from 'node:crypto';
import { newEventId } from '../ids.js';
import { type Db, stmt } from './db.js';

export type AuditAction =
  | 'message.submitted' | 'message.blocked' | 'message.held' | 'message.approved' | 'message.edited'
  | 'message.rejected' | 'message.cancelled' | 'message.expired' | 'message.claimed' | 'message.sent'
  | 'message.retry_scheduled' | 'message.failed' | 'message.outcome_unknown' | 'message.notified'
  | 'email.tagged' | 'email.read' | 'mailbox.created' | 'mailbox.updated' | 'mailbox.mode_changed';

export interface AuditInput {
  actor: string;
  action: AuditAction;
  mailbox?: string | null;
  message_id?: string | null;
  email_id?: string | null;
  detail?: Record<string, unknown>;
}

export interface AuditEvent {
  seq: number;
  event_id: string;
  at: number;
  actor: string;
  action: AuditAction;
  mailbox: string | null;
  message_id: string | null;
  email_id: string | null;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const GENESIS = '0'.repeat(64);

/** JSON with object keys sorted at every depth, so the same event always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function eventHash(prevHash: string, e: Omit<AuditEvent, 'seq' | 'hash' | 'prev_hash'>): string {
  const body = canonicalJson({
    event_id: e.event_id, at: e.at, actor: e.actor, action: e.action,
    mailbox: e.mailbox, message_id: e.message_id, email_id: e.email_id, detail: e.detail,
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

export function appendAudit(db: Db, input: AuditInput, now: number): AuditEvent {
  const prev = stmt(db, 'SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1').get() as { hash: string } | undefined;
  const prevHash = prev?.hash ?? GENESIS;
  const event = {
    event_id: newEventId(),
    at: now,
    actor: input.actor,
    action: input.action,
    mailbox: input.mailbox ?? null,
    message_id: input.message_id ?? null,
    email_id: input.email_id ?? null,
    // Hash exactly what is stored: a JSON round trip turns Dates into strings and drops undefined, as the
    // TEXT column will, so verification later recomputes the same hash from the row.
    detail: JSON.parse(JSON.stringify(input.detail ?? {})) as Record<string, unknown>,
  };
  const hash = eventHash(prevHash, event);
  const info = stmt(db, `INSERT INTO audit_events (event_id, at, actor, action, mailbox, message_id, email_id, detail, prev_hash, hash)
              VALUES (@event_id, @at, @actor, @action, @mailbox, @message_id, @email_id, @detail, @prev_hash, @hash)`)
    .run({ ...event, detail: JSON.stringify(event.detail), prev_hash: prevHash, hash });
  return { ...event, seq: Number(info.lastInsertRowid), prev_hash: prevHash, hash };
}

interface AuditRow extends Omit<AuditEvent, 'detail'> { detail: string }

const fromRow = (r: AuditRow): AuditEvent => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> });

export interface AuditQuery {
  message_id?: string | undefined;
  mailbox?: string | undefined;
  limit: number;
  /** Return events with seq below this (newest first paging). */
  before_seq?: number | undefined;
}

export function queryAudit(db: Db, q: AuditQuery): AuditEvent[] {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit };
  if (q.message_id) { where.push('message_id = @message_id'); params.message_id = q.message_id; }
  if (q.mailbox) { where.push('mailbox = @mailbox'); params.mailbox = q.mailbox; }
  if (q.before_seq) { where.push('seq < @before_seq'); params.before_seq = q.before_seq; }
  const sql = `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
  return (stmt(db, sql).all(params) as AuditRow[]).map(fromRow).reverse();
}

export type VerifyResult = { ok: true; events: number } | { ok: false; events: number; first_bad_seq: number; problem: string };

/** Walks the whole chain in order and names the first event whose link or content does not check out. */
export function verifyAuditChain(db: Db): VerifyResult {
  let prevHash = GENESIS;
  let count = 0;
  for (const row of stmt(db, 'SELECT * FROM audit_events ORDER BY seq').iterate() as IterableIterator<AuditRow>) {
    count++;
    const e = fromRow(row);
    if (e.prev_hash !== prevHash) return { ok: false, events: count, first_bad_seq: e.seq, problem: 'prev_hash does not link to the previous event (a row was removed or reordered)' };
    if (eventHash(prevHash, e) !== e.hash) return { ok: false, events: count, first_bad_seq: e.seq, problem: 'content does not match its hash (the row was edited)' };
    prevHash = e.hash;
  }
  return { ok: true, events: count };
}
