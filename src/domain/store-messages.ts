/**
 * The Store, outbound messages and held mailbox actions: submit, decide, expire, deliver, resolve, and the
 * suppression list and personal data that go with them. Backend-neutral: each method is one transaction (or
 * read) on the driver, running the rules of this layer on the store's primitives.
 */
import type { Decision } from '../gate/types.js';
import { loadAttachments } from '../store/attachments.js';
import { appendAudit } from '../store/audit.js';
import * as delivery from '../store/delivery.js';
import * as actions from '../store/mailbox-actions.js';
import * as messages from '../store/messages.js';
import * as personal from '../store/personal-data.js';
import type { DecideRequest, DeliveryOutcome, GateFn, SubmitRequest } from '../store/store.js';
import * as suppressions from '../store/suppressions.js';
import * as actionRules from './action-rules.js';
import * as rules from './delivery-rules.js';
import { decideInTx, expireDue, submitInTx } from './message-ops.js';
import { mailboxLock } from './store-base.js';
import { StoreMailboxes } from './store-mailboxes.js';

export abstract class StoreMessages extends StoreMailboxes {
  submitMessage(req: SubmitRequest, gate: GateFn, now: number) {
    return this.tx((q) => submitInTx(q, req, gate, now), { locks: [mailboxLock(req.mailbox)] });
  }

  decideMessage(id: string, req: DecideRequest, now: number) {
    // An expired message is marked expired in its own commit before the conflict is reported.
    return this.tryTx((q) => decideInTx(q, id, req, now));
  }

  expireDue(now: number, limit: number) {
    return this.tx((q) => expireDue(q, now, limit));
  }

  claimForDelivery(owner: string, now: number, leaseMs: number, limit: number, mailboxes: readonly string[]) {
    return this.tx((q) => delivery.claimDue(q, owner, now, leaseMs, limit, mailboxes));
  }
  chargeAttempt(id: string, owner: string, now: number) {
    return this.tx(async (q) => {
      if (!(await delivery.chargeAttempt(q, id, owner, now))) throw new Error(`lease on ${id} lost before transmission; not sending`);
    });
  }
  markTransmitting(id: string, owner: string, now: number) {
    return this.tx((q) => delivery.markTransmitting(q, id, owner, now));
  }
  recordOutcome(id: string, owner: string, outcome: DeliveryOutcome, now: number, opts: { charge?: boolean } = {}) {
    return this.tx((q) => rules.recordOutcome(q, id, owner, outcome, now, opts.charge ?? false));
  }
  releaseLease(id: string, owner: string, now: number) {
    return this.tx((q) => delivery.releaseLease(q, id, owner, now));
  }
  resumeDeliveries(address: string, actor: string, reason: string, now: number) {
    return this.tx((q) => rules.resumeMailbox(q, address, actor, reason, now));
  }
  resolveOutcome(id: string, resolution: { delivered: boolean }, actor: string, reason: string, now: number) {
    return this.tx((q) => rules.resolveOutcome(q, id, resolution.delivered ? { delivered: true } : { delivered: false }, actor, reason, now));
  }

  addSuppression(s: Omit<suppressions.Suppression, 'created_at'>, now: number) {
    return this.tx((q) => suppressions.addSuppression(q, s, now));
  }
  removeSuppression(entry: { scope: string; kind: 'address' | 'domain'; value: string }, actor: string, now: number) {
    return this.tx((q) => suppressions.removeSuppression(q, entry, actor, now));
  }
  listSuppressions(query: { scope?: string | undefined; limit: number }) {
    return this.read((q) => suppressions.listSuppressions(q, query));
  }
  syncConfigSuppressions(entries: readonly { kind: 'address' | 'domain'; value: string }[], actor: string, now: number) {
    return this.tx((q) => suppressions.syncConfigSuppressions(q, entries, actor, now));
  }

  /** Runs submit's gate with its facts inside a transaction that is always rolled back: nothing is written. */
  simulateSubmit(req: SubmitRequest, gate: GateFn, now: number): Promise<Decision> {
    return this.tx(async (q) => (await submitInTx(q, { ...req, idempotency_key: null }, gate, now)).decision, {
      locks: [mailboxLock(req.mailbox)],
      rollback: true,
    });
  }

  setPersonalDataMode(mode: 'inline' | 'hashed') {
    return this.tx((q) => personal.setPersonalDataMode(q, mode));
  }

  eraseMessage(id: string, actor: string, reason: string, now: number) {
    return this.tx(async (q) => {
      const mailbox = (await messages.getMessageRow(q, id))?.mailbox ?? null;
      const inline = (await personal.personalDataMode(q)) === 'inline';
      await personal.eraseMessageData(q, id);
      await appendAudit(
        q,
        {
          actor,
          action: 'message.erased',
          mailbox,
          message_id: id,
          detail: { reason, ...(inline ? { note: 'the audit chain was kept in inline mode: events before this one still hold the personal data' } : {}) },
        },
        now,
      );
    });
  }

  abandonLeases(isDead: (owner: string) => boolean, now: number) {
    return this.tx((q) => delivery.abandonLeases(q, isDead, now));
  }
  recoverLeases(now: number, safeToRetry: (m: messages.OutboundMessage) => boolean) {
    return this.tx((q) => rules.recoverLeases(q, now, safeToRetry));
  }

  loadAttachments(id: string) {
    return this.read((q) => loadAttachments(q, id));
  }

  getMessage(id: string) {
    return this.read((q) => messages.getMessageRow(q, id));
  }
  listMessages(query: messages.MessageQuery) {
    return this.read((q) => messages.listMessageRows(q, query));
  }
  listPending(query: messages.PendingQuery) {
    return this.read((q) => messages.listPendingRows(q, query));
  }
  listByStatus(query: messages.StatusQuery) {
    return this.read((q) => messages.listByStatusRows(q, query));
  }
  reviewDurations(mailbox: string, limit: number) {
    return this.read((q) => messages.reviewDurationRows(q, mailbox, limit));
  }

  submitAction(req: actions.ActionRequest, gate: GateFn, now: number) {
    return this.tx((q) => actionRules.submitActionInTx(q, req, gate, now), { locks: [mailboxLock(req.mailbox)] });
  }
  decideAction(id: string, req: DecideRequest, now: number) {
    return this.tryTx((q) => actionRules.decideActionInTx(q, id, req, now));
  }
  getAction(id: string) {
    return this.read((q) => actions.getActionRow(q, id));
  }
  listPendingActions(query: Parameters<typeof actions.listPendingActionRows>[1]) {
    return this.read((q) => actions.listPendingActionRows(q, query));
  }
  expireDueActions(now: number, limit: number) {
    return this.tx((q) => actionRules.expireDueActions(q, now, limit));
  }
  claimActions(owner: string, now: number, ms: number, limit: number, mbs: readonly string[]) {
    return this.tx((q) => actions.claimActions(q, owner, now, ms, limit, mbs));
  }
  recordActionOutcome(id: string, owner: string, o: actions.ActionOutcome, now: number) {
    return this.tx((q) => actionRules.recordActionOutcome(q, id, owner, o, now));
  }
}
