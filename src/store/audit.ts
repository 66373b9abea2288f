/**
 * The audit aggregate: append-only, hash-chained events. Appends happen inside the caller's transaction,
 * so a state change and its audit event commit together or not at all.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { newEventId } from '../ids.js';
import type { AuditAction } from '../values.js';
import { inScope, scopeParam } from './db.js';
import { protectDetail } from './personal-data.js';
import type { SqlTx } from './sql/types.js';
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

/** The lock that makes appends one chain on PostgreSQL: two appends reading the same head would fork it. */
const CHAIN_LOCK = 'audit-chain';

/** An event of this transaction not yet on the chain: everything but its place (seq, prev_hash, hash). */
type Unchained = Omit<AuditEvent, 'seq' | 'prev_hash' | 'hash'>;

const unchained = new WeakMap<SqlTx, Unchained[]>();

/**
 * Records an audit event in the caller's transaction. The event (with its personal data protected) and its
 * webhook deliveries are written now; its place on the chain is taken at the end of the transaction, just
 * before COMMIT (SqlTx.beforeCommit), so on PostgreSQL the chain-head lock every audited write needs is held
 * for those last statements only, not for the whole transaction. Events keep the order they were appended in.
 */
export async function appendAudit(q: SqlTx, input: AuditInput, now: number): Promise<void> {
  const event: Unchained = {
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
    detail: await protectDetail(q, input.message_id, JSON.parse(JSON.stringify(input.detail ?? {})) as Record<string, unknown>),
  };
  let pending = unchained.get(q);
  if (!pending) {
    const list: Unchained[] = [];
    unchained.set(q, (pending = list));
    q.beforeCommit(() => chain(q, list));
  }
  pending.push(event);
  // Same transaction: a webhook event exists exactly when the audited change committed.
  await enqueueFromAudit(q, event);
}

/** Puts this transaction's events on the chain, in order, under the chain-head lock held until COMMIT. */
async function chain(q: SqlTx, events: readonly Unchained[]): Promise<void> {
  await q.lock(CHAIN_LOCK);
  let prevHash = (await q.value<string>('SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1')) ?? GENESIS;
  let seq = 0;
  for (const event of events) {
    const hash = eventHash(prevHash, event);
    seq = Number(
      await q.value<number>(
        `INSERT INTO audit_events (event_id, at, actor, action, mailbox, message_id, email_id, detail, prev_hash, hash)
              VALUES (@event_id, @at, @actor, @action, @mailbox, @message_id, @email_id, @detail, @prev_hash, @hash) RETURNING seq`,
        { ...event, detail: JSON.stringify(event.detail), prev_hash: prevHash, hash },
      ),
    );
    prevHash = hash;
  }
  if (q.dialect.name === 'postgres') await setChainHead(q, seq, prevHash);
}

/** Sets PostgreSQL's chain-head record from the newest event there is (after `db copy` wrote the chain). */
export async function recordChainHead(q: SqlTx): Promise<void> {
  const last = await q.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
  if (last) await setChainHead(q, last.seq, last.hash);
}

/**
 * PostgreSQL's record of the chain's newest event (audit_head), which verification compares the last event
 * with: its sequence leaves gaps (rollbacks), so unlike SQLite's counter it cannot show that the newest rows
 * were removed.
 */
async function setChainHead(q: SqlTx, seq: number, hash: string): Promise<void> {
  await q.run(
    `INSERT INTO audit_head (only_row, seq, hash) VALUES (true, @seq, @hash)
       ON CONFLICT (only_row) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
    { seq, hash },
  );
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

export async function queryAudit(q: SqlTx, query: AuditQuery): Promise<AuditEvent[]> {
  const where: string[] = [];
  const params: Record<string, unknown> = { limit: query.limit };
  if (query.message_id) {
    where.push('message_id = @message_id');
    params.message_id = query.message_id;
  }
  if (query.mailbox) {
    where.push('mailbox = @mailbox');
    params.mailbox = query.mailbox;
  }
  if (query.mailboxes) {
    where.push(inScope(q.dialect));
    params.mailboxes = scopeParam(query.mailboxes);
  }
  if (query.before_seq) {
    where.push('seq < @before_seq');
    params.before_seq = query.before_seq;
  }
  const sql = `SELECT * FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
  return (await q.all<AuditRow>(sql, params)).map(fromRow).reverse();
}

/**
 * `head` is the newest event: the chain cannot prove by itself that nothing after it was cut off, so keep the
 * head hash somewhere else (an export, a ticket) and check it later with `anchor`.
 */
export type VerifyResult =
  | { ok: true; events: number; head: { seq: number; hash: string } | null }
  | { ok: false; events: number; first_bad_seq: number; problem: string };

/** Rows read at a time: the chain is walked in pages by seq, so a long chain is never held in memory whole. */
const PAGE = 500;

/**
 * Whether the newest events were removed (or added behind the chain's back): SQLite's AUTOINCREMENT counter, or
 * PostgreSQL's audit_head record, must name the last event walked. A plain DELETE of the newest rows leaves them ahead.
 */
async function tailProblem(q: SqlTx, last: { seq: number; hash: string } | null): Promise<{ first_bad_seq: number; problem: string } | null> {
  const lastSeq = last?.seq ?? 0;
  if (q.dialect.name === 'sqlite') {
    const next = await q.value<number>("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'");
    return next !== undefined && next > lastSeq ? { first_bad_seq: lastSeq + 1, problem: `events after seq ${lastSeq} up to ${next} were removed` } : null;
  }
  const recorded = await q.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_head');
  if (!recorded) return last ? { first_bad_seq: last.seq, problem: 'the record of the chain head (audit_head) is missing' } : null;
  if (recorded.seq > lastSeq) return { first_bad_seq: lastSeq + 1, problem: `events after seq ${lastSeq} up to ${recorded.seq} were removed` };
  if (recorded.seq < lastSeq || recorded.hash !== last?.hash) {
    return { first_bad_seq: recorded.seq + 1, problem: 'the newest events are not the ones recorded as the head of the chain (audit_head)' };
  }
  return null;
}

/** Walks the whole chain in order and names the first event whose link or content does not check out. */
export async function verifyAuditChain(q: SqlTx, anchor?: string): Promise<VerifyResult> {
  // SQLite's AUTOINCREMENT numbers are contiguous (a rolled-back insert gives its number back), so a gap is a
  // removed row. A PostgreSQL sequence never gives a number back (a rolled-back append, a retried transaction
  // or a policy simulation leaves a gap), so there the links and the anchor are the proof.
  const contiguous = q.dialect.name === 'sqlite';
  let prevHash = GENESIS;
  let count = 0;
  let head: { seq: number; hash: string } | null = null;
  let anchorSeen = false;
  for (;;) {
    const rows = await q.all<AuditRow>('SELECT * FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?', [head?.seq ?? Number.MIN_SAFE_INTEGER, PAGE]);
    for (const row of rows) {
      count++;
      const e = fromRow(row);
      if (contiguous && head && e.seq !== head.seq + 1)
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
    if (rows.length < PAGE) break;
  }
  const tail = await tailProblem(q, head);
  if (tail) return { ok: false, events: count, ...tail };
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
