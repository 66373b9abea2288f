/**
 * The SQLite backend of the Store interface. Every operation is one synchronous BEGIN IMMEDIATE
 * transaction that writes the state change and its audit event together; nothing is awaited inside.
 */
import { MailgateError } from '../errors.js';
import type { Decision } from '../gate/types.js';
import { appendAudit, queryAudit, verifyAuditChain } from './audit.js';
import { type Db, inTransaction, openDatabase, stmt } from './db.js';
import * as cache from './imap-cache.js';
import * as inbox from './inbox.js';
import * as mailboxes from './mailboxes.js';
import * as messages from './messages.js';
import type { DecideRequest, DeliveryOutcome, MailboxPatch, Store, SubmitRequest, GateFn } from './store.js';
import { decideInTx, submitInTx } from './message-ops.js';

export class SqliteStore implements Store {
  readonly db: Db;

  constructor(path: string, opts: { busyTimeoutMs?: number } = {}) {
    this.db = openDatabase(path, opts);
  }

  private tx<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(inTransaction(this.db, fn));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private read<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  listMailboxes() { return this.read(() => mailboxes.listMailboxRows(this.db)); }
  getMailbox(address: string) { return this.read(() => mailboxes.getMailboxRow(this.db, address)); }

  createMailbox(m: Omit<mailboxes.Mailbox, 'created_at' | 'updated_at'>, actor: string, now: number) {
    return this.tx(() => {
      if (mailboxes.getMailboxRow(this.db, m.address)) {
        throw new MailgateError('MAILBOX_EXISTS', `mailbox ${m.address} already exists; use update_mailbox to change it`, { field: 'address' });
      }
      const row = { ...m, created_at: now, updated_at: now };
      mailboxes.insertMailboxRow(this.db, row);
      appendAudit(this.db, { actor, action: 'mailbox.created', mailbox: m.address, detail: {
        oversight_mode: m.oversight_mode, mode_source: m.mode_source, auto_approve_rules: m.auto_approve_rules,
        pending_ttl_seconds: m.pending_ttl_seconds, transport: m.transport } }, now);
      return row;
    });
  }

  updateMailbox(address: string, patch: MailboxPatch, actor: string, reason: string, now: number) {
    return this.tx(() => {
      const before = mailboxes.getMailboxRow(this.db, address);
      if (!before) throw mailboxes.unknownMailbox(this.db, address);
      const after: mailboxes.Mailbox = { ...before };
      for (const [k, v] of Object.entries(patch)) if (v !== undefined) (after as unknown as Record<string, unknown>)[k] = v;
      const changed = (Object.keys(patch) as (keyof MailboxPatch)[]).filter(
        (k) => patch[k] !== undefined && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
      if (changed.length === 0) return { mailbox: before, changed, pending_unaffected: 0 };
      const pending = messages.countPending(this.db, address);
      after.updated_at = now;
      mailboxes.updateMailboxRow(this.db, after);
      // The mode applies to new actions only: held mail stays held whatever the new mode (it is never re-gated).
      const modeChanged = changed.some((k) => k === 'oversight_mode' || k === 'auto_approve_rules' || k === 'mode_source');
      const diff = Object.fromEntries(changed.map((k) => [k, { from: before[k], to: after[k] }]));
      appendAudit(this.db, { actor, mailbox: address, action: modeChanged ? 'mailbox.mode_changed' : 'mailbox.updated',
        detail: { changes: diff, reason, pending_unaffected: pending } }, now);
      return { mailbox: after, changed, pending_unaffected: pending };
    });
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
    return this.tx(() => {
      const claimed: messages.OutboundMessage[] = [];
      for (const m of messages.claimableRows(this.db, now, limit, mailboxes)) {
        const ok = messages.transition(this.db, m.message_id, ['approved', 'queued'], 'sending',
          { lease_owner: owner, lease_until: now + leaseMs, attempts: m.attempts + 1 }, now);
        if (ok) claimed.push({ ...m, status: 'sending', lease_owner: owner, lease_until: now + leaseMs, attempts: m.attempts + 1 });
      }
      return claimed;
    });
  }

  markTransmitting(id: string, owner: string, now: number) {
    return this.tx(() => {
      const ok = stmt(this.db, `UPDATE messages SET transmitting_at = ?, updated_at = ?
                                WHERE message_id = ? AND status = 'sending' AND lease_owner = ? AND lease_until >= ?`)
        .run(now, now, id, owner, now).changes === 1;
      if (!ok) throw new Error(`lease on ${id} lost before transmission; not sending`);
    });
  }

  recordOutcome(id: string, owner: string, outcome: DeliveryOutcome, now: number) {
    return this.tx(() => {
      const m = messages.getMessageRow(this.db, id);
      if (!m || m.status !== 'sending' || m.lease_owner !== owner) return undefined; // lease lost: someone else owns it now
      const base = { lease_owner: null, lease_until: null };
      const guard = { where: 'AND lease_owner = @owner', params: { owner } };
      const audit = (action: Parameters<typeof appendAudit>[1]['action'], detail: Record<string, unknown>) =>
        appendAudit(this.db, { actor: 'system:delivery', action, mailbox: m.mailbox, message_id: id, detail: { attempt: m.attempts, ...detail } }, now);
      switch (outcome.kind) {
        case 'sent':
          messages.transition(this.db, id, ['sending'], 'sent', { ...base, sent_at: now, last_error: null,
            smtp_response: typeof outcome.detail.response === 'string' ? outcome.detail.response : null }, now, guard);
          // Known contacts are addresses this mailbox has sent to. Inbound mail does not count: its From is
          // whatever the sender claims, and a forged one must not earn an address automatic approval.
          if (m.kind !== 'tag') mailboxes.recordCorrespondents(this.db, m.mailbox, [...m.to, ...m.cc, ...m.bcc], now);
          audit(m.kind === 'tag' ? 'email.tagged' : 'message.sent', outcome.detail);
          break;
        case 'retry':
          messages.transition(this.db, id, ['sending'], 'queued', { ...base, last_error: outcome.error, next_attempt_at: outcome.next_attempt_at, transmitting_at: null }, now, guard);
          audit('message.retry_scheduled', { error: outcome.error, next_attempt_at: outcome.next_attempt_at });
          break;
        case 'failed':
          messages.transition(this.db, id, ['sending'], 'failed', { ...base, last_error: outcome.error, smtp_response: outcome.error }, now, guard);
          audit('message.failed', { error: outcome.error });
          break;
        case 'unknown':
          messages.transition(this.db, id, ['sending'], 'outcome_unknown', { ...base, last_error: outcome.error }, now, guard);
          audit('message.outcome_unknown', { error: outcome.error });
          break;
      }
      return messages.getMessageRow(this.db, id);
    });
  }

  abandonLeases(isDead: (owner: string) => boolean, now: number) {
    return this.tx(() => {
      const owners = stmt(this.db, "SELECT DISTINCT lease_owner FROM messages WHERE status = 'sending' AND lease_owner IS NOT NULL", true).all() as string[];
      let n = 0;
      for (const owner of owners.filter(isDead)) {
        n += stmt(this.db, "UPDATE messages SET lease_until = ? WHERE status = 'sending' AND lease_owner = ?").run(now - 1, owner).changes;
      }
      return n;
    });
  }

  recoverLeases(now: number, safeToRetry: (m: messages.OutboundMessage) => boolean) {
    return this.tx(() => {
      const out: messages.OutboundMessage[] = [];
      for (const m of messages.expiredLeaseRows(this.db, now)) {
        const retry = safeToRetry(m);
        const to = retry ? 'queued' : 'outcome_unknown';
        const when = m.transmitting_at === null ? 'before the message was transmitted' : 'after the message was transmitted';
        const error = retry
          ? `delivery lease of ${m.lease_owner} expired ${when}; retrying (safe for this transport)`
          : `delivery lease of ${m.lease_owner} expired ${when}; it may have been delivered, so it is not resent`;
        const set = { lease_owner: null, lease_until: null, last_error: error, next_attempt_at: now, transmitting_at: retry ? null : m.transmitting_at };
        if (!messages.transition(this.db, m.message_id, ['sending'], to, set, now, { where: 'AND lease_until < @now' })) continue;
        appendAudit(this.db, { actor: 'system:delivery', mailbox: m.mailbox, message_id: m.message_id,
          action: retry ? 'message.retry_scheduled' : 'message.outcome_unknown', detail: { error, recovered: true } }, now);
        out.push(messages.getMessageRow(this.db, m.message_id)!);
      }
      return out;
    });
  }

  getMessage(id: string) { return this.read(() => messages.getMessageRow(this.db, id)); }
  listMessages(q: { mailbox?: string | undefined; since?: number | undefined }) { return this.read(() => messages.listMessageRows(this.db, q)); }
  listPending(q: { mailbox?: string | undefined; limit: number; cursor?: string | undefined; now: number }) {
    return this.read(() => messages.listPendingRows(this.db, q));
  }

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
  listCaptured(limit: number) { return this.read(() => inbox.listCapturedRows(this.db, limit)); }
  audit(q: Parameters<typeof queryAudit>[1]) { return this.read(() => queryAudit(this.db, q)); }
  verifyAudit() { return this.read(() => verifyAuditChain(this.db)); }

  close() {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}

export type { Decision };
