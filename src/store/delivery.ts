/**
 * The delivery side of the outbound aggregate: claims with a lease, the attempt count, outcomes, and the
 * recovery of leases left by dead processes. Each function runs inside the caller's transaction.
 *
 * An attempt is charged when a transmission was tried (the sender reached MAIL FROM, or a transport returned
 * an outcome), never on claim: a process that dies between claim and transmission has not tried the server,
 * and charging it would let a few crashes use up a message's retries.
 */
import { canonicalEmail } from '../gate/canonical.js';
import { appendAudit } from './audit.js';
import { type Db, stmt } from './db.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import { pauseMailbox, noteDeliveryResult } from './delivery-pause.js';
import * as suppressions from './suppressions.js';
import type { DeliveryOutcome } from './store.js';

/** Claims due messages of the given mailboxes, skipping mailboxes whose deliveries are paused or held back. */
export function claimDue(db: Db, owner: string, now: number, leaseMs: number, limit: number, wanted: readonly string[]): messages.OutboundMessage[] {
  const open = stmt(
    db,
    `SELECT address FROM mailboxes WHERE address IN (SELECT value FROM json_each(?))
                         AND delivery_paused_at IS NULL AND (delivery_held_until IS NULL OR delivery_held_until <= ?)`,
    true,
  ).all(JSON.stringify(wanted), now) as string[];
  const claimed: messages.OutboundMessage[] = [];
  for (const m of messages.claimableRows(db, now, limit, open)) {
    const lease = { lease_owner: owner, lease_until: now + leaseMs };
    if (messages.transition(db, m.message_id, ['approved', 'queued'], 'sending', lease, now)) claimed.push({ ...m, status: 'sending', ...lease });
  }
  return claimed;
}

/** Counts one attempt for the lease holder (the sender is about to send MAIL FROM). False if the lease is lost. */
export function chargeAttempt(db: Db, id: string, owner: string, now: number): boolean {
  return (
    stmt(
      db,
      `UPDATE messages SET attempts = attempts + 1, updated_at = ?
                   WHERE message_id = ? AND status = 'sending' AND lease_owner = ? AND lease_until >= ?`,
    ).run(now, id, owner, now).changes === 1
  );
}

export function markTransmitting(db: Db, id: string, owner: string, now: number): void {
  const ok =
    stmt(
      db,
      `UPDATE messages SET transmitting_at = ?, updated_at = ?
                       WHERE message_id = ? AND status = 'sending' AND lease_owner = ? AND lease_until >= ?`,
    ).run(now, now, id, owner, now).changes === 1;
  if (!ok) throw new Error(`lease on ${id} lost before transmission; not sending`);
}

/**
 * Ends this owner's lease at once (after its outcome could not be recorded), so the next pass of any worker
 * recovers the message as a dead process's would be: requeued if nothing was transmitted, else outcome_unknown.
 * An in-place UPDATE of one row: it needs no new page, so it usually succeeds where the outcome's inserts did not.
 */
export function releaseLease(db: Db, id: string, owner: string, now: number): boolean {
  return stmt(db, "UPDATE messages SET lease_until = ? WHERE message_id = ? AND status = 'sending' AND lease_owner = ?").run(now - 1, id, owner).changes === 1;
}

export function recordOutcome(db: Db, id: string, owner: string, outcome: DeliveryOutcome, now: number, charge: boolean): messages.OutboundMessage | undefined {
  const m = messages.getMessageRow(db, id);
  if (!m || m.status !== 'sending' || m.lease_owner !== owner) return undefined; // lease lost: someone else owns it now
  const attempts = m.attempts + (charge ? 1 : 0);
  const base = { lease_owner: null, lease_until: null, attempts };
  const guard = { where: 'AND lease_owner = @owner', params: { owner } };
  const audit = (action: Parameters<typeof appendAudit>[1]['action'], detail: Record<string, unknown>) =>
    appendAudit(db, { actor: 'system:delivery', action, mailbox: m.mailbox, message_id: id, detail: { attempt: attempts, ...detail } }, now);
  switch (outcome.kind) {
    case 'sent':
      messages.transition(
        db,
        id,
        ['sending'],
        'sent',
        { ...base, sent_at: now, last_error: null, smtp_response: typeof outcome.detail.response === 'string' ? outcome.detail.response : null },
        now,
        guard,
      );
      // Known contacts are addresses this mailbox has sent to. Inbound mail does not count: its From is
      // whatever the sender claims, and a forged one must not earn an address automatic approval.
      mailboxes.recordCorrespondents(db, m.mailbox, [...m.to, ...m.cc, ...m.bcc], now);
      audit('message.sent', outcome.detail);
      suppressBounces(db, outcome.detail.bounced as string[] | undefined, id, now);
      noteDeliveryResult(db, m.mailbox, 'answered', now);
      break;
    case 'retry':
      messages.transition(
        db,
        id,
        ['sending'],
        'queued',
        { ...base, last_error: outcome.error, next_attempt_at: outcome.next_attempt_at, transmitting_at: null },
        now,
        guard,
      );
      audit('message.retry_scheduled', { error: outcome.error, next_attempt_at: outcome.next_attempt_at });
      noteDeliveryResult(db, m.mailbox, 'transient', now, outcome.hold_mailbox_until);
      break;
    case 'failed':
      messages.transition(db, id, ['sending'], 'failed', { ...base, last_error: outcome.error, smtp_response: outcome.error }, now, guard);
      audit('message.failed', { error: outcome.error, ...(outcome.bounced?.length ? { bounced: outcome.bounced } : {}) });
      suppressBounces(db, outcome.bounced, id, now);
      noteDeliveryResult(db, m.mailbox, 'answered', now);
      break;
    case 'unknown':
      messages.transition(db, id, ['sending'], 'outcome_unknown', { ...base, last_error: outcome.error }, now, guard);
      audit('message.outcome_unknown', { error: outcome.error });
      break;
    case 'refused':
      messages.transition(db, id, ['sending'], 'failed', { ...base, last_error: outcome.error }, now, guard);
      audit('message.send_refused', { error: outcome.error, approved_hash: m.approved_hash });
      break;
    case 'paused':
      // The account's configuration is wrong: the message waits, unharmed and uncharged, for the fix.
      messages.transition(db, id, ['sending'], 'queued', { ...base, last_error: outcome.error, next_attempt_at: now, transmitting_at: null }, now, guard);
      pauseMailbox(db, m.mailbox, { reason: outcome.error, hint: outcome.hint, digest: outcome.settings_digest, message_id: id }, now);
      break;
  }
  return messages.getMessageRow(db, id);
}

/** A hard bounce puts the address on the suppression list for every mailbox (it does not exist). */
function suppressBounces(db: Db, bounced: readonly string[] | undefined, id: string, now: number): void {
  for (const address of bounced ?? []) {
    suppressions.addSuppression(
      db,
      { scope: '*', kind: 'address', value: canonicalEmail(address), reason: `hard bounce delivering ${id}`, source: 'bounce', created_by: 'system:delivery' },
      now,
    );
  }
}

export function abandonLeases(db: Db, isDead: (owner: string) => boolean, now: number): number {
  const owners = stmt(db, "SELECT DISTINCT lease_owner FROM messages WHERE status = 'sending' AND lease_owner IS NOT NULL", true).all() as string[];
  let n = 0;
  for (const owner of owners.filter(isDead)) {
    n += stmt(db, "UPDATE messages SET lease_until = ? WHERE status = 'sending' AND lease_owner = ?").run(now - 1, owner).changes;
  }
  return n;
}

export function recoverLeases(db: Db, now: number, safeToRetry: (m: messages.OutboundMessage) => boolean): messages.OutboundMessage[] {
  const out: messages.OutboundMessage[] = [];
  for (const m of messages.expiredLeaseRows(db, now)) {
    const retry = safeToRetry(m);
    const to = retry ? 'queued' : 'outcome_unknown';
    const when = m.transmitting_at === null ? 'before the message was transmitted' : 'after the message was transmitted';
    const error = retry
      ? `delivery lease of ${m.lease_owner} expired ${when}; retrying (safe for this transport)`
      : `delivery lease of ${m.lease_owner} expired ${when}; it may have been delivered, so it is not resent`;
    const set = { lease_owner: null, lease_until: null, last_error: error, next_attempt_at: now, transmitting_at: retry ? null : m.transmitting_at };
    if (!messages.transition(db, m.message_id, ['sending'], to, set, now, { where: 'AND lease_until < @now' })) continue;
    appendAudit(
      db,
      {
        actor: 'system:delivery',
        mailbox: m.mailbox,
        message_id: m.message_id,
        action: retry ? 'message.retry_scheduled' : 'message.outcome_unknown',
        detail: { error, recovered: true },
      },
      now,
    );
    out.push(messages.getMessageRow(db, m.message_id)!);
  }
  return out;
}
