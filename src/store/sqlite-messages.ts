import type { Decision } from '../gate/types.js';
import { appendAudit } from './audit.js';
import { inTransaction } from './db.js';
import * as messages from './messages.js';
import type { DecideRequest, DeliveryOutcome, SubmitRequest, GateFn } from './store.js';
import { decideInTx, loadAttachments, submitInTx } from './message-ops.js';
import * as suppressions from './suppressions.js';
import * as personal from './personal-data.js';
import * as delivery from './delivery.js';
import * as pausing from './delivery-pause.js';
import * as actions from './mailbox-actions.js';
import { SqliteMailboxes } from './sqlite-mailboxes.js';

export abstract class SqliteMessages extends SqliteMailboxes {
  submitMessage(req: SubmitRequest, gate: GateFn, now: number) {
    return this.tx(() => submitInTx(this.db, req, gate, now));
  }

  decideMessage(id: string, req: DecideRequest, now: number) {
    // An expired message is marked expired in its own commit before the conflict is reported.
    const outcome = this.tryTx(() => decideInTx(this.db, id, req, now));
    return outcome;
  }

  expireDue(now: number, limit: number) {
    return this.tx(() => {
      const expired: messages.OutboundMessage[] = [];
      for (const m of messages.dueForExpiry(this.db, now, limit)) {
        if (!messages.transition(this.db, m.message_id, ['pending'], 'expired', { decided_at: now, decided_by: 'system:expiry' }, now)) continue;
        appendAudit(
          this.db,
          { actor: 'system:expiry', action: 'message.expired', mailbox: m.mailbox, message_id: m.message_id, detail: { expires_at: m.expires_at } },
          now,
        );
        expired.push(messages.getMessageRow(this.db, m.message_id)!);
      }
      return expired;
    });
  }

  claimForDelivery(owner: string, now: number, leaseMs: number, limit: number, mailboxes: readonly string[]) {
    return this.tx(() => delivery.claimDue(this.db, owner, now, leaseMs, limit, mailboxes));
  }
  chargeAttempt(id: string, owner: string, now: number) {
    return this.tx(() => {
      if (!delivery.chargeAttempt(this.db, id, owner, now)) throw new Error(`lease on ${id} lost before transmission; not sending`);
    });
  }
  markTransmitting(id: string, owner: string, now: number) {
    return this.tx(() => delivery.markTransmitting(this.db, id, owner, now));
  }
  recordOutcome(id: string, owner: string, outcome: DeliveryOutcome, now: number, opts: { charge?: boolean } = {}) {
    return this.tx(() => delivery.recordOutcome(this.db, id, owner, outcome, now, opts.charge ?? false));
  }
  releaseLease(id: string, owner: string, now: number) {
    return this.tx(() => delivery.releaseLease(this.db, id, owner, now));
  }
  resumeDeliveries(address: string, actor: string, reason: string, now: number) {
    return this.tx(() => pausing.resumeMailbox(this.db, address, actor, reason, now));
  }
  resolveOutcome(id: string, resolution: { delivered: boolean }, actor: string, reason: string, now: number) {
    return this.tx(() => pausing.resolveOutcome(this.db, id, resolution.delivered ? { delivered: true } : { delivered: false }, actor, reason, now));
  }

  addSuppression(s: Omit<suppressions.Suppression, 'created_at'>, now: number) {
    return this.tx(() => suppressions.addSuppression(this.db, s, now));
  }
  removeSuppression(q: { scope: string; kind: 'address' | 'domain'; value: string }, actor: string, now: number) {
    return this.tx(() => suppressions.removeSuppression(this.db, q, actor, now));
  }
  listSuppressions(q: { scope?: string | undefined; limit: number }) {
    return this.read(() => suppressions.listSuppressions(this.db, q));
  }
  syncConfigSuppressions(entries: readonly { kind: 'address' | 'domain'; value: string }[], actor: string, now: number) {
    return this.tx(() => suppressions.syncConfigSuppressions(this.db, entries, actor, now));
  }

  /** Runs submit's gate with its facts inside a transaction that is always rolled back: nothing is written. */
  simulateSubmit(req: SubmitRequest, gate: GateFn, now: number): Promise<Decision> {
    let decision: Decision | undefined;
    const rollback = new Error('simulation');
    try {
      inTransaction(this.db, () => {
        decision = submitInTx(this.db, { ...req, idempotency_key: null }, gate, now).decision;
        throw rollback;
      });
    } catch (err) {
      if (err !== rollback) return Promise.reject(err);
    }
    return Promise.resolve(decision!);
  }

  setPersonalDataMode(mode: 'inline' | 'hashed') {
    return this.tx(() => personal.setPersonalDataMode(this.db, mode));
  }

  eraseMessage(id: string, actor: string, reason: string, now: number) {
    return this.tx(() => {
      const mailbox = messages.getMessageRow(this.db, id)?.mailbox ?? null;
      const inline = personal.personalDataMode(this.db) === 'inline';
      personal.eraseMessageData(this.db, id);
      appendAudit(
        this.db,
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
    return this.tx(() => delivery.abandonLeases(this.db, isDead, now));
  }
  recoverLeases(now: number, safeToRetry: (m: messages.OutboundMessage) => boolean) {
    return this.tx(() => delivery.recoverLeases(this.db, now, safeToRetry));
  }

  loadAttachments(id: string) {
    return this.read(() => loadAttachments(this.db, id));
  }

  getMessage(id: string) {
    return this.read(() => messages.getMessageRow(this.db, id));
  }
  listMessages(q: messages.MessageQuery) {
    return this.read(() => messages.listMessageRows(this.db, q));
  }
  listPending(q: messages.PendingQuery) {
    return this.read(() => messages.listPendingRows(this.db, q));
  }

  submitAction(req: actions.ActionRequest, gate: GateFn, now: number) {
    return this.tx(() => actions.submitActionInTx(this.db, req, gate, now));
  }
  decideAction(id: string, req: DecideRequest, now: number) {
    return this.tryTx(() => actions.decideActionInTx(this.db, id, req, now));
  }
  getAction(id: string) {
    return this.read(() => actions.getActionRow(this.db, id));
  }
  listPendingActions(q: Parameters<typeof actions.listPendingActionRows>[1]) {
    return this.read(() => actions.listPendingActionRows(this.db, q));
  }
  expireDueActions(now: number, limit: number) {
    return this.tx(() => actions.expireDueActions(this.db, now, limit));
  }
  claimActions(owner: string, now: number, ms: number, limit: number, mbs: readonly string[]) {
    return this.tx(() => actions.claimActions(this.db, owner, now, ms, limit, mbs));
  }
  recordActionOutcome(id: string, owner: string, o: actions.ActionOutcome, now: number) {
    return this.tx(() => actions.recordActionOutcome(this.db, id, owner, o, now));
  }
}
