/**
 * Mailbox-wide delivery control and the operator's resolution of unknown outcomes; each function runs
 * inside the caller's transaction.
 *
 * A pause is for configuration problems (authentication, TLS): every message of the mailbox would fail the
 * same way, so they stay queued, uncharged, until the settings change or an operator resumes. The breaker is
 * for a server that keeps answering 4xx: after several consecutive transient failures the whole mailbox waits
 * (delivery_held_until), rather than each queued message trying on its own schedule.
 */
import { MailgateError } from '../errors.js';
import { RESOLUTIONS } from '../gate/lifecycle.js';
import { appendAudit } from './audit.js';
import { type Db, stmt } from './db.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';

/** A mailbox's delivery state (mailboxes.delivery_* columns, schema 5). */
interface DeliveryState {
  paused_at: number | null;
  paused_reason: string | null;
  /** The salted settings digest at the pause (`salt:hex`), to tell when the configuration changed. */
  paused_digest: string | null;
  /** Consecutive transient failures (reset by any answer that is not a 4xx). */
  failures: number;
  /** The breaker: no delivery for the mailbox before this time. */
  held_until: number | null;
}

function deliveryState(db: Db, address: string): DeliveryState | undefined {
  return stmt(
    db,
    `SELECT delivery_paused_at AS paused_at, delivery_paused_reason AS paused_reason, delivery_paused_digest AS paused_digest,
                   delivery_failures AS failures, delivery_held_until AS held_until FROM mailboxes WHERE address = ?`,
  ).get(address) as DeliveryState | undefined;
}

export function pauseMailbox(db: Db, address: string, p: { reason: string; hint: string; digest: string | null; message_id?: string }, now: number): boolean {
  const paused =
    stmt(
      db,
      `UPDATE mailboxes SET delivery_paused_at = ?, delivery_paused_reason = ?, delivery_paused_digest = ?
                           WHERE address = ? AND delivery_paused_at IS NULL`,
    ).run(now, p.reason, p.digest, address).changes === 1;
  if (!paused) return false; // already paused: one event for the pause, not one per message
  const waiting = stmt(db, "SELECT count(*) FROM messages WHERE mailbox = ? AND status IN ('approved', 'queued', 'sending')", true).get(address) as number;
  appendAudit(
    db,
    {
      actor: 'system:delivery',
      action: 'mailbox.paused',
      mailbox: address,
      detail: { reason: p.reason, hint: p.hint, waiting, ...(p.message_id ? { message_id: p.message_id } : {}) },
    },
    now,
  );
  return true;
}

/** Lifts a pause and the breaker; false (and nothing audited) when the mailbox was not paused. */
export function resumeMailbox(db: Db, address: string, actor: string, reason: string, now: number): boolean {
  const before = deliveryState(db, address);
  if (!before) throw mailboxes.unknownMailbox(db, address);
  if (before.paused_at === null) return false;
  stmt(
    db,
    `UPDATE mailboxes SET delivery_paused_at = NULL, delivery_paused_reason = NULL, delivery_paused_digest = NULL,
            delivery_failures = 0, delivery_held_until = NULL WHERE address = ?`,
  ).run(address);
  // Queued mail goes at the next pass rather than at whatever retry time it had before the pause.
  stmt(db, "UPDATE messages SET next_attempt_at = ? WHERE mailbox = ? AND status IN ('approved', 'queued') AND next_attempt_at > ?").run(now, address, now);
  appendAudit(
    db,
    { actor, action: 'mailbox.resumed', mailbox: address, detail: { reason, paused_at: before.paused_at, paused_reason: before.paused_reason } },
    now,
  );
  return true;
}

/**
 * Feeds the breaker: a transient failure counts (and may hold the mailbox until `holdUntil`); any other
 * answer from the server resets it.
 */
export function noteDeliveryResult(db: Db, address: string, result: 'answered' | 'transient', _now: number, holdUntil?: number | null): void {
  if (result === 'answered') {
    stmt(
      db,
      `UPDATE mailboxes SET delivery_failures = 0, delivery_held_until = NULL
              WHERE address = ? AND (delivery_failures <> 0 OR delivery_held_until IS NOT NULL)`,
    ).run(address);
    return;
  }
  stmt(
    db,
    `UPDATE mailboxes SET delivery_failures = delivery_failures + 1,
              delivery_held_until = CASE WHEN @hold IS NULL THEN delivery_held_until ELSE max(coalesce(delivery_held_until, 0), @hold) END
            WHERE address = @address`,
  ).run({ address, hold: holdUntil ?? null });
}

export type Resolution = { delivered: true } | { delivered: false };

/** A person's answer to outcome_unknown (`mailgate resolve`): delivered -> sent; not delivered -> failed, for good. */
export function resolveOutcome(db: Db, id: string, r: Resolution, actor: string, reason: string, now: number): messages.OutboundMessage {
  const m = messages.getMessageRow(db, id);
  if (!m) throw new MailgateError('UNKNOWN_MESSAGE', `no outbound message '${id}'; 'mailgate audit' lists message ids`, { field: 'message_id' });
  const to = r.delivered ? 'sent' : 'failed';
  if (!RESOLUTIONS[m.status]?.includes(to)) {
    throw new MailgateError(
      'NOT_OUTCOME_UNKNOWN',
      `${id} is ${m.status}, not outcome_unknown: only a message whose delivery could not be known can be resolved`,
      { field: 'message_id', details: { status: m.status } },
    );
  }
  const set = r.delivered ? { sent_at: now, last_error: null } : { last_error: `not delivered (resolved by ${actor}): ${reason}` };
  if (!messages.transition(db, id, ['outcome_unknown'], to, set, now)) {
    throw new MailgateError('NOT_OUTCOME_UNKNOWN', `${id} was resolved by someone else just now; 'mailgate audit --message ${id}' shows how`);
  }
  // Delivered mail makes its recipients known correspondents, as a recorded 250 does.
  if (r.delivered) mailboxes.recordCorrespondents(db, m.mailbox, [...m.to, ...m.cc, ...m.bcc], now);
  appendAudit(
    db,
    {
      actor,
      action: 'message.resolved',
      mailbox: m.mailbox,
      message_id: id,
      detail: { resolution: r.delivered ? 'delivered' : 'not_delivered', reason, message_id_header: m.message_id_header },
    },
    now,
  );
  return messages.getMessageRow(db, id)!;
}
