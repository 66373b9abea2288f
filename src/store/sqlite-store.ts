import { appendAudit, queryAudit, verifyAuditChain } from './audit.js';
import * as cache from './imap-cache.js';
import * as inbox from './inbox.js';
import * as messages from './messages.js';
import type { Denial, Store } from './store.js';
import * as links from './approval-links.js';
import * as tokens from './tokens.js';
import * as endpoints from './webhook-endpoints.js';
import * as webhooks from './webhooks.js';
import { SqliteMessages } from './sqlite-messages.js';

export class SqliteStore extends SqliteMessages implements Store {
  getEmail(id: string) {
    return this.read(() => inbox.getEmailRow(this.db, id));
  }
  listEmails(q: { mailbox: string; folder: string; unread_only: boolean; limit: number }) {
    return this.read(() => inbox.listEmailRows(this.db, q));
  }
  listFolders(mailbox: string) {
    return this.read(() => inbox.folderNames(this.db, mailbox));
  }
  searchEmails(q: { mailbox: string; query: string; folder?: string | undefined; limit: number }) {
    return this.read(() => inbox.searchEmailRows(this.db, q));
  }
  applyTag(action: messages.TagAction) {
    return this.tx(() => inbox.applyTagRow(this.db, action));
  }

  recordRead(email: inbox.InboundEmail, actor: string, now: number) {
    return this.tx(() => {
      appendAudit(this.db, { actor, action: 'email.read', mailbox: email.mailbox, email_id: email.email_id, detail: { folder: email.folder } }, now);
    });
  }

  deliverSandbox(m: messages.OutboundMessage, local: readonly string[], external: readonly string[], now: number) {
    return this.tx(() => {
      const common = {
        source: 'sandbox' as const,
        from_addr: m.from_addr,
        from_name: null,
        to: m.to,
        cc: m.cc,
        subject: m.subject,
        text: m.text,
        html: m.html,
        message_id_header: m.message_id_header,
        in_reply_to_header: m.in_reply_to_header,
        references_header: m.references_header,
        outbound_message_id: m.message_id,
        date: now,
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

  getFolderState(mailbox: string, folder: string) {
    return this.read(() => cache.getFolderState(this.db, mailbox, folder));
  }
  cachedUids(mailbox: string, folder: string, uidvalidity: number) {
    return this.read(() => cache.cachedUids(this.db, mailbox, folder, uidvalidity));
  }
  cachedCount(mailbox: string, folder: string, uidvalidity: number) {
    return this.read(() => cache.cachedCount(this.db, mailbox, folder, uidvalidity));
  }
  applyFolderSync(sync: cache.FolderSync, now: number) {
    return this.tx(() => cache.applyFolderSync(this.db, sync, now));
  }
  setEmailBody(emailId: string, body: cache.ParsedBody) {
    return this.tx(() => cache.setBody(this.db, emailId, body));
  }
  setEmailBodies(bodies: readonly (readonly [string, cache.ParsedBody])[]) {
    return this.tx(() => {
      for (const [id, body] of bodies) cache.setBody(this.db, id, body);
    });
  }
  unfetchedUids(mailbox: string, folder: string) {
    return this.read(() => cache.unfetchedUids(this.db, mailbox, folder));
  }
  emailsByUid(mailbox: string, folder: string, uids: readonly number[]) {
    return this.read(() => inbox.emailsByUid(this.db, mailbox, folder, uids));
  }

  findReply(mailbox: string, header: string) {
    return this.read(() => inbox.findReplyTo(this.db, mailbox, header));
  }
  threadOf(mailbox: string, key: string, limit: number) {
    return this.read(() => ({ emails: inbox.threadEmailRows(this.db, mailbox, key, limit), sent: messages.sentInThreadRows(this.db, mailbox, key, limit) }));
  }
  listCaptured(limit: number) {
    return this.read(() => inbox.listCapturedRows(this.db, limit));
  }
  audit(q: Parameters<typeof queryAudit>[1]) {
    return this.read(() => queryAudit(this.db, q));
  }
  recordDenial(d: Denial, now: number) {
    return this.tx(() => {
      const { actor, mailbox, ...detail } = d;
      appendAudit(this.db, { actor, action: 'authz.denied', mailbox: mailbox ?? null, detail }, now);
    });
  }
  verifyAudit(anchor?: string) {
    return this.read(() => verifyAuditChain(this.db, anchor));
  }

  createToken(t: tokens.NewToken, actor: string, now: number) {
    return this.tx(() => tokens.insertToken(this.db, t, actor, now));
  }
  listTokens() {
    return this.read(() => tokens.listTokens(this.db));
  }
  getToken(tokenId: string) {
    return this.read(() => tokens.getToken(this.db, tokenId));
  }
  findTokenByHash(secretHash: string) {
    return this.read(() => tokens.findTokenByHash(this.db, secretHash));
  }
  touchToken(tokenId: string, now: number) {
    return this.tx(() => tokens.touchToken(this.db, tokenId, now));
  }
  revokeToken(idOrName: string, actor: string, now: number) {
    return this.tx(() => tokens.revokeToken(this.db, idOrName, actor, now));
  }

  recordConfirmationRequest(req: links.ConfirmationRequest, now: number) {
    return this.tx(() => links.recordConfirmationRequest(this.db, req, now));
  }
  findApprovalLink(secretHash: string) {
    return this.read(() => links.findLinkByHash(this.db, secretHash));
  }
  approvalLinkProblem(link: links.ApprovalLink, now: number) {
    return this.read(() => links.linkProblem(this.db, link, now));
  }
  spendApprovalLink(linkId: string, now: number) {
    return this.tx(() => links.spendLink(this.db, linkId, now));
  }
  recordChangeConfirmationRequest(req: links.ChangeConfirmationRequest, now: number) {
    return this.tx(() => links.recordChangeRequest(this.db, req, now));
  }
  findChangeLink(secretHash: string) {
    return this.read(() => links.findChangeLinkByHash(this.db, secretHash));
  }
  changeLinkProblem(link: links.ChangeLink, now: number) {
    return this.read(() => links.changeLinkProblem(this.db, link, now));
  }
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
  listWebhookEndpoints(q: { include_disabled: boolean }) {
    return this.read(() => endpoints.listEndpoints(this.db, q));
  }
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
  abandonWebhookLeases(isDead: (owner: string) => boolean, now: number) {
    return this.tx(() => webhooks.abandonLeases(this.db, isDead, now));
  }
  onWebhookQueued(listener: () => void) {
    return webhooks.onQueued(this.db, listener);
  }
}
