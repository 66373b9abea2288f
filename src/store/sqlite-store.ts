/**
 * The SQLite backend of the Store interface. Every operation is one synchronous BEGIN IMMEDIATE
 * transaction that writes the state change and its audit event together; nothing is awaited inside.
 */
import { MailgateError, storeError } from '../errors.js';
import type { Decision } from '../gate/types.js';
import { appendAudit, queryAudit, verifyAuditChain } from './audit.js';
import { type Db, inTransaction, openDatabase, stmt } from './db.js';
import * as cache from './imap-cache.js';
import * as inbox from './inbox.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import type { DecideRequest, DeliveryOutcome, Denial, MailboxPatch, MailboxUpdateOptions, NewMailbox, Store, SubmitRequest, GateFn } from './store.js';
import { decideInTx, loadAttachments, submitInTx } from './message-ops.js';
import { isTightening } from '../gate/modes.js';
import { mailboxStateHash } from '../gate/loosening.js';
import * as suppressions from './suppressions.js';
import * as personal from './personal-data.js';
import * as links from './approval-links.js';
import * as tokens from './tokens.js';
import * as endpoints from './webhook-endpoints.js';
import * as webhooks from './webhooks.js';
import * as delivery from './delivery.js';
import * as pausing from './delivery-pause.js';
import * as actions from './mailbox-actions.js';

export class SqliteStore implements Store {
  readonly db: Db;

  constructor(readonly path: string, opts: { busyTimeoutMs?: number } = {}) {
    this.db = openDatabase(path, opts);
  }

  // Both translate SQLite's failures (disk full, damaged page, ...) here, where the file's path is known.
  private tx<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(inTransaction(this.db, fn));
    } catch (err) {
      return Promise.reject(storeError(err, this.path) ?? err);
    }
  }

  private read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError(err, this.path) ?? err);
    }
  }

  listMailboxes() { return this.read(() => mailboxes.listMailboxRows(this.db)); }
  getMailbox(address: string) { return this.read(() => mailboxes.getMailboxRow(this.db, address)); }

  createMailbox(m: NewMailbox, actor: string, now: number, opts: Pick<MailboxUpdateOptions, 'detail'> = {}) {
    return this.tx(() => {
      if (mailboxes.getMailboxRow(this.db, m.address)) {
        throw new MailgateError('MAILBOX_EXISTS', `mailbox ${m.address} already exists; use update_mailbox to change it`, { field: 'address' });
      }
      const row = { ...m, config_digest: m.config_digest ?? null, created_at: now, updated_at: now };
      mailboxes.insertMailboxRow(this.db, row);
      appendAudit(this.db, { actor, action: 'mailbox.created', mailbox: m.address, detail: {
        oversight_mode: m.oversight_mode, mode_source: m.mode_source, auto_approve_rules: m.auto_approve_rules,
        pending_ttl_seconds: m.pending_ttl_seconds, transport: m.transport, ...opts.detail } }, now);
      return row;
    });
  }

  updateMailbox(address: string, patch: MailboxPatch, actor: string, reason: string, now: number, opts: MailboxUpdateOptions = {}) {
    return this.tx(() => {
      const before = mailboxes.getMailboxRow(this.db, address);
      if (!before) throw mailboxes.unknownMailbox(this.db, address);
      if (opts.expectStateHash !== undefined && mailboxStateHash(before) !== opts.expectStateHash) {
        throw new MailgateError('LINK_INVALID', `${address} changed after the person was asked to confirm this change, so the confirmation does not cover it; ask again`);
      }
      const after: mailboxes.Mailbox = { ...before, config_digest: opts.configDigest ?? before.config_digest };
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) (after as unknown as Record<string, unknown>)[k] = v;
      const changed = (Object.keys(patch) as (keyof MailboxPatch)[]).filter(
        (k) => patch[k] !== undefined && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
      if (changed.length === 0) {
        if (after.config_digest !== before.config_digest) mailboxes.setConfigDigest(this.db, address, after.config_digest);
        return { mailbox: after, changed, pending_unaffected: 0 };
      }
      const pending = messages.countPending(this.db, address) + actions.countPendingActions(this.db, address);
      after.updated_at = now;
      mailboxes.updateMailboxRow(this.db, after);
      // The mode applies to new actions only: held mail stays held whatever the new mode (it is never re-gated).
      const modeChanged = changed.some((k) => k === 'oversight_mode' || k === 'auto_approve_rules' || k === 'mode_source');
      const diff = Object.fromEntries(changed.map((k) => [k, { from: before[k], to: after[k] }]));
      const retaken = isTightening(before.oversight_mode, after.oversight_mode) ? this.retakeUnsent(after, actor, reason, now) : [];
      appendAudit(this.db, { actor, mailbox: address, action: modeChanged ? 'mailbox.mode_changed' : 'mailbox.updated',
        detail: { changes: diff, reason, pending_unaffected: pending, ...(retaken.length ? { retaken } : {}), ...opts.detail } }, now);
      return { mailbox: after, changed, pending_unaffected: pending, retaken: retaken.length };
    });
  }

  /**
   * Tightening applies to everything not yet transmitted (reliability G6): mail the gate itself let go
   * (decided_by IS NULL: no human approved it) that has not reached the final dot goes back to the queue, or
   * is cancelled under read_only. A worker holding one of these loses it at markTransmitting and sends nothing.
   */
  private retakeUnsent(mailbox: mailboxes.Mailbox, actor: string, reason: string, now: number): string[] {
    const rows = stmt(this.db, `SELECT message_id, status FROM messages WHERE mailbox = ? AND status IN ('queued', 'sending')
                                AND decided_by IS NULL AND transmitting_at IS NULL`).all(mailbox.address) as { message_id: string; status: 'queued' | 'sending' }[];
    const held = mailbox.oversight_mode !== 'read_only';
    const why = `${mailbox.oversight_mode} mode now applies: ${reason}`;
    return rows.filter((r) => {
      const ok = held
        ? messages.transition(this.db, r.message_id, [r.status], 'pending', { expires_at: now + mailbox.pending_ttl_seconds * 1000,
          approved_hash: null, lease_owner: null, lease_until: null, next_attempt_at: null, gate_code: 'mode_requires_approval', gate_reason: why }, now)
        : messages.transition(this.db, r.message_id, [r.status], 'cancelled', { decided_at: now, decided_by: actor, decision_reason: why,
          approved_hash: null, lease_owner: null, lease_until: null, next_attempt_at: null }, now);
      if (ok) {
        appendAudit(this.db, { actor, action: held ? 'message.held' : 'message.cancelled', mailbox: mailbox.address, message_id: r.message_id,
          detail: { reason: why, was: r.status, mode: mailbox.oversight_mode } }, now);
      }
      return ok;
    }).map((r) => r.message_id);
  }

  lastMailboxChange(address: string) { return this.read(() => mailboxes.lastMailboxChange(this.db, address)); }

  knownCorrespondents(mailbox: string, addresses: readonly string[]) {
    return this.read(() => mailboxes.knownCorrespondents(this.db, mailbox, addresses));
  }

  setContactLists(lists: Record<string, readonly string[]>) {
    return this.tx(() => mailboxes.replaceContactLists(this.db, lists));
  }

  submitMessage(req: SubmitRequest, gate: GateFn, now: number) {
    return this.tx(() => submitInTx(this.db, req, gate, now));
  }

  decideMessage(id: string, req: DecideRequest, now: number) {
    // An expired message is marked expired in its own commit before the conflict is reported.
    const outcome = this.tryTx(() => decideInTx(this.db, id, req, now));
    return outcome;
  }

  private tryTx<T>(fn: () => { ok: true; value: T } | { ok: false; error: MailgateError }): Promise<T> {
    return this.tx(fn).then((r) => (r.ok ? r.value : Promise.reject(r.error)));
  }

  expireDue(now: number, limit: number) {
    return this.tx(() => {
      const expired: messages.OutboundMessage[] = [];
      for (const m of messages.dueForExpiry(this.db, now, limit)) {
        if (!messages.transition(this.db, m.message_id, ['pending'], 'expired', { decided_at: now, decided_by: 'system:expiry' }, now)) continue;
        appendAudit(this.db, { actor: 'system:expiry', action: 'message.expired', mailbox: m.mailbox, message_id: m.message_id,
          detail: { expires_at: m.expires_at } }, now);
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
  markTransmitting(id: string, owner: string, now: number) { return this.tx(() => delivery.markTransmitting(this.db, id, owner, now)); }
  recordOutcome(id: string, owner: string, outcome: DeliveryOutcome, now: number, opts: { charge?: boolean } = {}) {
    return this.tx(() => delivery.recordOutcome(this.db, id, owner, outcome, now, opts.charge ?? false));
  }
  releaseLease(id: string, owner: string, now: number) { return this.tx(() => delivery.releaseLease(this.db, id, owner, now)); }
  resumeDeliveries(address: string, actor: string, reason: string, now: number) {
    return this.tx(() => pausing.resumeMailbox(this.db, address, actor, reason, now));
  }
  resolveOutcome(id: string, resolution: { delivered: boolean }, actor: string, reason: string, now: number) {
    return this.tx(() => pausing.resolveOutcome(this.db, id, resolution.delivered ? { delivered: true } : { delivered: false }, actor, reason, now));
  }

  addSuppression(s: Omit<suppressions.Suppression, 'created_at'>, now: number) { return this.tx(() => suppressions.addSuppression(this.db, s, now)); }
  removeSuppression(q: { scope: string; kind: 'address' | 'domain'; value: string }, actor: string, now: number) {
    return this.tx(() => suppressions.removeSuppression(this.db, q, actor, now));
  }
  listSuppressions(q: { scope?: string | undefined; limit: number }) { return this.read(() => suppressions.listSuppressions(this.db, q)); }
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
      const mailbox = (messages.getMessageRow(this.db, id))?.mailbox ?? null;
      const inline = personal.personalDataMode(this.db) === 'inline';
      personal.eraseMessageData(this.db, id);
      appendAudit(this.db, { actor, action: 'message.erased', mailbox, message_id: id, detail: { reason,
        ...(inline ? { note: 'the audit chain was kept in inline mode: events before this one still hold the personal data' } : {}) } }, now);
    });
  }

  abandonLeases(isDead: (owner: string) => boolean, now: number) { return this.tx(() => delivery.abandonLeases(this.db, isDead, now)); }
  recoverLeases(now: number, safeToRetry: (m: messages.OutboundMessage) => boolean) {
    return this.tx(() => delivery.recoverLeases(this.db, now, safeToRetry));
  }

  loadAttachments(id: string) { return this.read(() => loadAttachments(this.db, id)); }

  getMessage(id: string) { return this.read(() => messages.getMessageRow(this.db, id)); }
  listMessages(q: messages.MessageQuery) { return this.read(() => messages.listMessageRows(this.db, q)); }
  listPending(q: messages.PendingQuery) { return this.read(() => messages.listPendingRows(this.db, q)); }

  submitAction(req: actions.ActionRequest, gate: GateFn, now: number) { return this.tx(() => actions.submitActionInTx(this.db, req, gate, now)); }
  decideAction(id: string, req: DecideRequest, now: number) { return this.tryTx(() => actions.decideActionInTx(this.db, id, req, now)); }
  getAction(id: string) { return this.read(() => actions.getActionRow(this.db, id)); }
  listPendingActions(q: Parameters<typeof actions.listPendingActionRows>[1]) { return this.read(() => actions.listPendingActionRows(this.db, q)); }
  expireDueActions(now: number, limit: number) { return this.tx(() => actions.expireDueActions(this.db, now, limit)); }
  claimActions(owner: string, now: number, ms: number, limit: number, mbs: readonly string[]) { return this.tx(() => actions.claimActions(this.db, owner, now, ms, limit, mbs)); }
  recordActionOutcome(id: string, owner: string, o: actions.ActionOutcome, now: number) { return this.tx(() => actions.recordActionOutcome(this.db, id, owner, o, now)); }

  getEmail(id: string) { return this.read(() => inbox.getEmailRow(this.db, id)); }
  listEmails(q: { mailbox: string; folder: string; unread_only: boolean; limit: number }) { return this.read(() => inbox.listEmailRows(this.db, q)); }
  listFolders(mailbox: string) { return this.read(() => inbox.folderNames(this.db, mailbox)); }
  searchEmails(q: { mailbox: string; query: string; folder?: string | undefined; limit: number }) { return this.read(() => inbox.searchEmailRows(this.db, q)); }
  applyTag(action: messages.TagAction) { return this.tx(() => inbox.applyTagRow(this.db, action)); }

  recordRead(email: inbox.InboundEmail, actor: string, now: number) {
    return this.tx(() => {
      appendAudit(this.db, { actor, action: 'email.read', mailbox: email.mailbox, email_id: email.email_id, detail: { folder: email.folder } }, now);
    });
  }

  deliverSandbox(m: messages.OutboundMessage, local: readonly string[], external: readonly string[], now: number) {
    return this.tx(() => {
      const common = {
        source: 'sandbox' as const, from_addr: m.from_addr, from_name: null, to: m.to, cc: m.cc, subject: m.subject,
        text: m.text, html: m.html, message_id_header: m.message_id_header, in_reply_to_header: m.in_reply_to_header,
        references_header: m.references_header, outbound_message_id: m.message_id, date: now,
        attachments: m.attachments.map((a) => ({ filename: a.filename, content_type: a.content_type, size: a.size })),
      };
      for (const rcpt of local) {
        inbox.insertEmail(this.db, { ...common, mailbox: rcpt, folder: 'INBOX', delivery_role: 'inbox' }, now);
      }
      inbox.insertEmail(this.db, { ...common, mailbox: m.mailbox, folder: 'Sent', delivery_role: 'sent', flags: ['\\Seen'] }, now);
      inbox.insertCaptured(this.db, m.message_id, external, now);
    });
  }

  insertInbound(e: inbox.NewEmail, now: number) {
    return this.tx(() => inbox.insertEmail(this.db, e, now));
  }

  getFolderState(mailbox: string, folder: string) { return this.read(() => cache.getFolderState(this.db, mailbox, folder)); }
  cachedUids(mailbox: string, folder: string, uidvalidity: number) { return this.read(() => cache.cachedUids(this.db, mailbox, folder, uidvalidity)); }
  cachedCount(mailbox: string, folder: string, uidvalidity: number) { return this.read(() => cache.cachedCount(this.db, mailbox, folder, uidvalidity)); }
  applyFolderSync(sync: cache.FolderSync, now: number) { return this.tx(() => cache.applyFolderSync(this.db, sync, now)); }
  setEmailBody(emailId: string, body: cache.ParsedBody) { return this.tx(() => cache.setBody(this.db, emailId, body)); }
  setEmailBodies(bodies: readonly (readonly [string, cache.ParsedBody])[]) {
    return this.tx(() => { for (const [id, body] of bodies) cache.setBody(this.db, id, body); });
  }
  unfetchedUids(mailbox: string, folder: string) { return this.read(() => cache.unfetchedUids(this.db, mailbox, folder)); }
  emailsByUid(mailbox: string, folder: string, uids: readonly number[]) { return this.read(() => inbox.emailsByUid(this.db, mailbox, folder, uids)); }

  findReply(mailbox: string, header: string) { return this.read(() => inbox.findReplyTo(this.db, mailbox, header)); }
  threadOf(mailbox: string, key: string, limit: number) {
    return this.read(() => ({ emails: inbox.threadEmailRows(this.db, mailbox, key, limit), sent: messages.sentInThreadRows(this.db, mailbox, key, limit) }));
  }
  listCaptured(limit: number) { return this.read(() => inbox.listCapturedRows(this.db, limit)); }
  audit(q: Parameters<typeof queryAudit>[1]) { return this.read(() => queryAudit(this.db, q)); }
  recordDenial(d: Denial, now: number) {
    return this.tx(() => {
      const { actor, mailbox, ...detail } = d;
      appendAudit(this.db, { actor, action: 'authz.denied', mailbox: mailbox ?? null, detail }, now);
    });
  }
  verifyAudit(anchor?: string) { return this.read(() => verifyAuditChain(this.db, anchor)); }

  createToken(t: tokens.NewToken, actor: string, now: number) { return this.tx(() => tokens.insertToken(this.db, t, actor, now)); }
  listTokens() { return this.read(() => tokens.listTokens(this.db)); }
  getToken(tokenId: string) { return this.read(() => tokens.getToken(this.db, tokenId)); }
  findTokenByHash(secretHash: string) { return this.read(() => tokens.findTokenByHash(this.db, secretHash)); }
  touchToken(tokenId: string, now: number) { return this.tx(() => tokens.touchToken(this.db, tokenId, now)); }
  revokeToken(idOrName: string, actor: string, now: number) { return this.tx(() => tokens.revokeToken(this.db, idOrName, actor, now)); }

  recordConfirmationRequest(req: links.ConfirmationRequest, now: number) { return this.tx(() => links.recordConfirmationRequest(this.db, req, now)); }
  findApprovalLink(secretHash: string) { return this.read(() => links.findLinkByHash(this.db, secretHash)); }
  approvalLinkProblem(link: links.ApprovalLink, now: number) { return this.read(() => links.linkProblem(this.db, link, now)); }
  spendApprovalLink(linkId: string, now: number) { return this.tx(() => links.spendLink(this.db, linkId, now)); }
  recordChangeConfirmationRequest(req: links.ChangeConfirmationRequest, now: number) { return this.tx(() => links.recordChangeRequest(this.db, req, now)); }
  findChangeLink(secretHash: string) { return this.read(() => links.findChangeLinkByHash(this.db, secretHash)); }
  changeLinkProblem(link: links.ChangeLink, now: number) { return this.read(() => links.changeLinkProblem(this.db, link, now)); }
  approveWithLink(link: links.ApprovalLink, note: string | null, now: number) {
    return this.tryTx(() => links.approveWithLinkInTx(this.db, link, note, now));
  }

  // ---- Webhooks ----
  addWebhookEndpoint(ep: endpoints.NewWebhookEndpoint, actor: string, now: number) {
    return this.tx(() => endpoints.addEndpointInTx(this.db, ep, 'operator', actor, now));
  }
  removeWebhookEndpoint(id: string, actor: string, reason: string | null, now: number) {
    return this.tx(() => endpoints.removeEndpointInTx(this.db, id, { actor, reason, allowConfig: false }, now));
  }
  listWebhookEndpoints(q: { include_disabled: boolean }) { return this.read(() => endpoints.listEndpoints(this.db, q)); }
  syncConfigWebhooks(wanted: readonly endpoints.NewWebhookEndpoint[], actor: string, now: number) {
    return this.tx(() => endpoints.syncConfigInTx(this.db, wanted, actor, now));
  }
  claimWebhookDeliveries(owner: string, now: number, leaseMs: number, limit: number) {
    return this.tx(() => webhooks.claimDue(this.db, owner, now, leaseMs, limit));
  }
  recordWebhookAttempt(d: { event_id: string; endpoint_id: string }, owner: string, outcome: webhooks.WebhookAttemptOutcome, now: number) {
    return this.tx(() => {
      const recorded = webhooks.recordAttempt(this.db, d, owner, outcome, now);
      if (recorded && outcome.kind === 'failed') endpoints.disableIfDead(this.db, d.endpoint_id, now);
      return recorded;
    });
  }
  abandonWebhookLeases(isDead: (owner: string) => boolean, now: number) { return this.tx(() => webhooks.abandonLeases(this.db, isDead, now)); }
  onWebhookQueued(listener: () => void) { return webhooks.onQueued(this.db, listener); }

  close() {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

export type { Decision };
