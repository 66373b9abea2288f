/**
 * What a delivery's outcome changes, on either backend: the message's state, the mailbox's known
 * correspondents, the suppression list (hard bounces), the breaker and the pause; the recovery of leases left
 * by dead processes; and the operator's resume and resolution of unknown outcomes. Each function runs inside
 * the caller's transaction, through the store's primitives.
 */
import { MailgateError } from '../errors.js';
import { canonicalEmail } from '../gate/canonical.js';
import { RESOLUTIONS } from '../gate/lifecycle.js';
import { type AuditInput, appendAudit } from '../store/audit.js';
import * as pausing from '../store/delivery-pause.js';
import * as mailboxes from '../store/mailboxes.js';
import * as messages from '../store/messages.js';
import type { SqlTx } from '../store/sql/types.js';
import * as suppressions from '../store/suppressions.js';
import type { DeliveryOutcome } from '../store/store.js';
import { signal, signalMessage } from './signals.js';

export async function recordOutcome(
  q: SqlTx,
  id: string,
  owner: string,
  outcome: DeliveryOutcome,
  now: number,
  charge: boolean,
): Promise<messages.OutboundMessage | undefined> {
  const m = await messages.getMessageRow(q, id);
  if (!m || m.status !== 'sending' || m.lease_owner !== owner) return undefined; // lease lost: someone else owns it now
  const attempts = m.attempts + (charge ? 1 : 0);
  const base = { lease_owner: null, lease_until: null, attempts };
  const guard = { where: 'AND lease_owner = @owner', params: { owner } };
  // The from-state is the one a lease is held in (sending): TRANSITIONS allows each of these only from there.
  const move = (to: 'sent' | 'queued' | 'failed' | 'outcome_unknown', set: Record<string, unknown>) => messages.transition(q, id, null, to, set, now, guard);
  const audit = (action: AuditInput['action'], detail: Record<string, unknown>) =>
    appendAudit(q, { actor: 'system:delivery', action, mailbox: m.mailbox, message_id: id, detail: { attempt: attempts, ...detail } }, now);
  switch (outcome.kind) {
    case 'sent':
      await move('sent', {
        ...base,
        sent_at: now,
        last_error: null,
        smtp_response: typeof outcome.detail.response === 'string' ? outcome.detail.response : null,
      });
      // Known contacts are addresses this mailbox has sent to. Inbound mail does not count: its From is
      // whatever the sender claims, and a forged one must not earn an address automatic approval.
      await mailboxes.recordCorrespondents(q, m.mailbox, [...m.to, ...m.cc, ...m.bcc], now);
      await audit('message.sent', outcome.detail);
      await suppressBounces(q, outcome.detail.bounced as string[] | undefined, id, now);
      await pausing.noteDeliveryResult(q, m.mailbox, 'answered', now);
      break;
    case 'retry':
      await move('queued', { ...base, last_error: outcome.error, next_attempt_at: outcome.next_attempt_at, transmitting_at: null });
      await audit('message.retry_scheduled', { error: outcome.error, next_attempt_at: outcome.next_attempt_at });
      await pausing.noteDeliveryResult(q, m.mailbox, 'transient', now, outcome.hold_mailbox_until);
      break;
    case 'failed':
      await move('failed', { ...base, last_error: outcome.error, smtp_response: outcome.error });
      await audit('message.failed', { error: outcome.error, ...(outcome.bounced?.length ? { bounced: outcome.bounced } : {}) });
      await suppressBounces(q, outcome.bounced, id, now);
      await pausing.noteDeliveryResult(q, m.mailbox, 'answered', now);
      break;
    case 'unknown':
      await move('outcome_unknown', { ...base, last_error: outcome.error });
      await audit('message.outcome_unknown', { error: outcome.error });
      break;
    case 'refused':
      await move('failed', { ...base, last_error: outcome.error });
      await audit('message.send_refused', { error: outcome.error, approved_hash: m.approved_hash });
      break;
    case 'paused':
      // The account's configuration is wrong: the message waits, unharmed and uncharged, for the fix.
      await move('queued', { ...base, last_error: outcome.error, next_attempt_at: now, transmitting_at: null });
      await pauseMailbox(q, m.mailbox, { reason: outcome.error, hint: outcome.hint, digest: outcome.settings_digest, message_id: id }, now);
      break;
  }
  // Not `deliverable`, even when requeued: a retry waits for its backoff, a paused mailbox for a person.
  signal(q, 'outbound', m.mailbox);
  return messages.getMessageRow(q, id);
}

/** A hard bounce puts the address on the suppression list for every mailbox (it does not exist). */
async function suppressBounces(q: SqlTx, bounced: readonly string[] | undefined, id: string, now: number): Promise<void> {
  for (const address of bounced ?? []) {
    await suppressions.addSuppression(
      q,
      { scope: '*', kind: 'address', value: canonicalEmail(address), reason: `hard bounce delivering ${id}`, source: 'bounce', created_by: 'system:delivery' },
      now,
    );
  }
}

/** Messages whose lease ran out (the process died): requeued when `safeToRetry` says so, else outcome_unknown. */
export async function recoverLeases(q: SqlTx, now: number, safeToRetry: (m: messages.OutboundMessage) => boolean): Promise<messages.OutboundMessage[]> {
  const out: messages.OutboundMessage[] = [];
  for (const m of await messages.expiredLeaseRows(q, now)) {
    const retry = safeToRetry(m);
    const to = retry ? 'queued' : 'outcome_unknown';
    const when = m.transmitting_at === null ? 'before the message was transmitted' : 'after the message was transmitted';
    const error = retry
      ? `delivery lease of ${m.lease_owner} expired ${when}; retrying (safe for this transport)`
      : `delivery lease of ${m.lease_owner} expired ${when}; it may have been delivered, so it is not resent`;
    const set = { lease_owner: null, lease_until: null, last_error: error, next_attempt_at: now, transmitting_at: retry ? null : m.transmitting_at };
    if (!(await messages.transition(q, m.message_id, null, to, set, now, { where: 'AND lease_until < @now' }))) continue;
    signalMessage(q, m.mailbox, to);
    await appendAudit(
      q,
      {
        actor: 'system:delivery',
        mailbox: m.mailbox,
        message_id: m.message_id,
        action: retry ? 'message.retry_scheduled' : 'message.outcome_unknown',
        detail: { error, recovered: true },
      },
      now,
    );
    out.push((await messages.getMessageRow(q, m.message_id))!);
  }
  return out;
}

async function pauseMailbox(
  q: SqlTx,
  address: string,
  p: { reason: string; hint: string; digest: string | null; message_id?: string },
  now: number,
): Promise<boolean> {
  if (!(await pausing.setDeliveryPause(q, address, p.reason, p.digest, now))) return false; // already paused: one event for the pause, not one per message
  const waiting = await pausing.countInFlight(q, address);
  await appendAudit(
    q,
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
export async function resumeMailbox(q: SqlTx, address: string, actor: string, reason: string, now: number): Promise<boolean> {
  const before = await pausing.deliveryState(q, address);
  if (!before) throw await mailboxes.unknownMailbox(q, address);
  if (before.paused_at === null) return false;
  await pausing.clearDeliveryPause(q, address);
  // Queued mail goes at the next pass rather than at whatever retry time it had before the pause.
  await pausing.dueNow(q, address, now);
  signal(q, 'deliverable', address);
  await appendAudit(
    q,
    { actor, action: 'mailbox.resumed', mailbox: address, detail: { reason, paused_at: before.paused_at, paused_reason: before.paused_reason } },
    now,
  );
  return true;
}

export type Resolution = { delivered: true } | { delivered: false };

/** A person's answer to outcome_unknown (`mailgate resolve`): delivered -> sent; not delivered -> failed, for good. */
export async function resolveOutcome(q: SqlTx, id: string, r: Resolution, actor: string, reason: string, now: number): Promise<messages.OutboundMessage> {
  const m = await messages.getMessageRow(q, id);
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
  if (!(await messages.resolveTransition(q, id, to, set, now))) {
    throw new MailgateError('NOT_OUTCOME_UNKNOWN', `${id} was resolved by someone else just now; 'mailgate audit --message ${id}' shows how`);
  }
  // Delivered mail makes its recipients known correspondents, as a recorded 250 does.
  if (r.delivered) await mailboxes.recordCorrespondents(q, m.mailbox, [...m.to, ...m.cc, ...m.bcc], now);
  signal(q, 'outbound', m.mailbox);
  await appendAudit(
    q,
    {
      actor,
      action: 'message.resolved',
      mailbox: m.mailbox,
      message_id: id,
      detail: { resolution: r.delivered ? 'delivered' : 'not_delivered', reason, message_id_header: m.message_id_header },
    },
    now,
  );
  return (await messages.getMessageRow(q, id))!;
}
