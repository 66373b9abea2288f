/**
 * The audit aggregate: append-only, hash-chained events. Appends happen inside the caller's transaction,
 * so a state change and its audit event commit together or not at all.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { newEventId } from '../ids.js';
import type { AuditAction } from '../values.js';
import { type Db, IN_SCOPE, scopeParam, stmt } from './db.js';
import { protectDetail } from './personal-data.js';
import { enqueueFromAudit } from './webhooks.js';

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

export function eventHash(prevHash: string, e: Omit<AuditEvent, 'seq' | 'hash' | 'prev_hash'>): string {
  const body = canonicalJson({
    event_id: e.event_id,
    at: e.at,
    actor: e.actor,
    action: e.action,
    mailbox: e.mailbox,
    message_id: e.message_id,
    email_id: e.email_id,
    detail: e.detail,
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
    // Personal data goes in as salted hashes when the database is in `hashed` mode (src/store/personal-data.ts).
    detail: protectDetail(db, input.message_id, JSON.parse(JSON.stringify(input.detail ?? {})) as Record<string, unknown>),
  };
  const hash = eventHash(prevHash, event);
  const info = stmt(
    db,
    `INSERT INTO audit_events (event_id, at, actor, action, mailbox, message_id, email_id, detail, prev_hash, hash)
              VALUES (@event_id, @at, @actor, @action, @mailbox, @message_id, @email_id, @detail, @prev_hash, @hash)`,
  ).run({ ...event, detail: JSON.stringify(event.detail), prev_hash: prevHash, hash });
  const appended = { ...event, seq: Number(info.lastInsertRowid), prev_hash: prevHash, hash };
  // Same transaction: a webhook event exists exactly when the audited change committed.
  enqueueFromAudit(db, appended);
  return appended;
}

interface AuditRow extends Omit<AuditEvent, 'detail'> {
  detail: string;
}

const fromRow = (r: AuditRow): AuditEvent => ({ ...r, detail: JSON.parse(r.detail) as Record<string, unknown> });

export interface AuditQuery {
  message_id?: string | undefined;
  mailbox?: string | undefined;
  /** Only events of these mailboxes (a principal bound to them); events of no mailbox are left out too. */
  mailboxes?: readonly string[] | undefined;
  limit: number;
  /** Return events with seq below this (newest first paging). */
  before_seq?: number | undefined;
}

export function queryAudit(db: Db, q: AuditQuery): AuditEvent[] {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: q.limit };
  if (q.message_id) {
    where.push('message_id = @message_id');
    params.message_id = q.message_id;
  }
  if (q.mailbox) {
    where.push('mailbox = @mailbox');
    params.mailbox = q.mailbox;
  }
  if (q.mailboxes) {
    where.push(IN_SCOPE);
    params.mailboxes = scopeParam(q.mailboxes);
  }
  if (q.before_seq) {
    where.push('seq < @before_seq');
    params.before_seq = q.before_seq;
  }
  const sql = `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
  return (stmt(db, sql).all(params) as AuditRow[]).map(fromRow).reverse();
}

/**
 * `head` is the newest event: the chain cannot prove by itself that nothing after it was cut off, so keep the
 * head hash somewhere else (an export, a ticket) and check it later with `anchor`.
 */
export type VerifyResult =
  | { ok: true; events: number; head: { seq: number; hash: string } | null }
  | { ok: false; events: number; first_bad_seq: number; problem: string };

/** Walks the whole chain in order and names the first event whose link or content does not check out. */
export function verifyAuditChain(db: Db, anchor?: string): VerifyResult {
  let prevHash = GENESIS;
  let count = 0;
  let head: { seq: number; hash: string } | null = null;
  let anchorSeen = false;
  for (const row of stmt(db, 'SELECT * FROM audit_events ORDER BY seq').iterate() as IterableIterator<AuditRow>) {
    count++;
    const e = fromRow(row);
    // AUTOINCREMENT numbers are contiguous (a rolled-back insert gives its number back): a gap is a removed row.
    if (head && e.seq !== head.seq + 1)
      return {
        ok: false,
        events: count,
        first_bad_seq: head.seq + 1,
        problem: e.seq - 1 === head.seq + 1 ? `event ${head.seq + 1} was removed` : `events ${head.seq + 1} to ${e.seq - 1} were removed`,
      };
    if (e.prev_hash !== prevHash)
      return { ok: false, events: count, first_bad_seq: e.seq, problem: 'prev_hash does not link to the previous event (a row was removed or reordered)' };
    if (eventHash(prevHash, e) !== e.hash)
      return { ok: false, events: count, first_bad_seq: e.seq, problem: 'content does not match its hash (the row was edited)' };
    // The stored text must be exactly what was written: JSON.parse forgives a duplicated key (the last wins)
    // while SQLite's JSON functions read the first, so an added duplicate could change what a query sees.
    if (JSON.stringify(e.detail) !== row.detail)
      return {
        ok: false,
        events: count,
        first_bad_seq: e.seq,
        problem: 'the detail text is not the JSON the event was written with (a duplicated key or edited text)',
      };
    prevHash = e.hash;
    head = { seq: e.seq, hash: e.hash };
    if (anchor && e.hash === anchor) anchorSeen = true;
  }
  // A plain DELETE of the newest rows leaves AUTOINCREMENT's counter ahead of the last event.
  const next = stmt(db, "SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'", true).get() as number | undefined;
  if (next !== undefined && next > (head?.seq ?? 0)) {
    return { ok: false, events: count, first_bad_seq: (head?.seq ?? 0) + 1, problem: `events after seq ${head?.seq ?? 0} up to ${next} were removed` };
  }
  if (anchor && !anchorSeen) {
    return {
      ok: false,
      events: count,
      first_bad_seq: (head?.seq ?? 0) + 1,
      problem: `no event has the anchored hash ${anchor.slice(0, 16)}…: the chain was cut back or rewritten since it was recorded`,
    };
  }
  return { ok: true, events: count, head };
}
