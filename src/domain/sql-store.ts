/**
 * The Store both backends share: the inbound mail, the IMAP cache, the audit trail, tokens, approval links
 * and webhooks, on top of the mailbox and message operations (store-mailboxes.ts, store-messages.ts).
 * Each method is one read or one transaction on the driver; the SQL is src/store's, the rules src/domain's.
 */
import { appendAudit, queryAudit, verifyAuditChain } from '../store/audit.js';
import * as cache from '../store/imap-cache.js';
import * as contacts from '../store/contacts.js';
import * as inbox from '../store/inbox.js';
import * as leases from '../store/leases.js';
import * as messages from '../store/messages.js';
import type { Denial, Store, StoreChange } from '../store/store.js';
import * as links from '../store/approval-links.js';
import * as tokens from '../store/tokens.js';
import * as endpoints from '../store/webhook-endpoints.js';
import * as webhooks from '../store/webhooks.js';
import * as linkRules from './approval-links.js';
import { deliverSandboxInTx } from './sandbox-delivery.js';
import { signal } from './signals.js';
import { StoreMessages } from './store-messages.js';
import * as webhookOps from './webhook-ops.js';

export class SqlStore extends StoreMessages implements Store {
  getEmail(id: string) {
    return this.read((q) => inbox.getEmailRow(q, id));
  }
  listEmails(query: { mailbox: string; folder: string; unread_only: boolean; limit: number }) {
    return this.read((q) => inbox.listEmailRows(q, query));
  }
  listFolders(mailbox: string) {
    return this.read((q) => inbox.folderNames(q, mailbox));
  }
  searchEmails(query: inbox.SearchQuery) {
    return this.read((q) => inbox.searchEmailRows(q, query));
  }
  applyTag(action: messages.TagAction) {
    return this.tx(async (q) => {
      const email = await inbox.applyTagRow(q, action);
      if (email) signal(q, 'inbox', email.mailbox);
      return email;
    });
  }

  listContacts(mailbox: string, query: string | null, limit: number) {
    return this.read((q) => contacts.listContactRows(q, mailbox, query, limit));
  }
  saveContact(c: { mailbox: string; address: string; name: string | null }, actor: string, now: number) {
    return this.tx((q) => contacts.saveContactRow(q, c, actor, now));
  }
  removeContact(mailbox: string, address: string, actor: string, now: number) {
    return this.tx((q) => contacts.removeContactRow(q, mailbox, address, actor, now));
  }

  recordRead(email: inbox.InboundEmail, actor: string, now: number) {
    return this.tx(async (q) => {
      await appendAudit(q, { actor, action: 'email.read', mailbox: email.mailbox, email_id: email.email_id, detail: { folder: email.folder } }, now);
    });
  }

  deliverSandbox(m: messages.OutboundMessage, local: readonly string[], external: readonly string[], now: number) {
    return this.tx((q) => deliverSandboxInTx(q, m, local, external, now));
  }

  insertInbound(e: inbox.NewEmail, now: number) {
    return this.tx(async (q) => {
      const id = await inbox.insertEmail(q, e, now);
      if (id) signal(q, 'inbox', e.mailbox);
      return id;
    });
  }

  getFolderState(mailbox: string, folder: string) {
    return this.read((q) => cache.getFolderState(q, mailbox, folder));
  }
  cachedUids(mailbox: string, folder: string, uidvalidity: number) {
    return this.read((q) => cache.cachedUids(q, mailbox, folder, uidvalidity));
  }
  cachedCount(mailbox: string, folder: string, uidvalidity: number) {
    return this.read((q) => cache.cachedCount(q, mailbox, folder, uidvalidity));
  }
  applyFolderSync(sync: cache.FolderSync, now: number) {
    return this.tx(async (q) => {
      const created = await cache.applyFolderSync(q, sync, now);
      // A sync that found nothing new (most IDLE wake-ups, every heartbeat) wakes nobody.
      if (created.length || sync.reset || sync.flagUpdates.length || sync.removed.length) signal(q, 'inbox', sync.state.mailbox);
      return created;
    });
  }
  // Bodies carry the References header a reply may be found by (findReply), so their arrival is signalled too.
  setEmailBody(emailId: string, body: cache.ParsedBody) {
    return this.tx(async (q) => {
      await cache.setBody(q, emailId, body);
      signal(q, 'inbox', null);
    });
  }
  setEmailBodies(bodies: readonly (readonly [string, cache.ParsedBody])[]) {
    return this.tx(async (q) => {
      for (const [id, body] of bodies) await cache.setBody(q, id, body);
      if (bodies.length) signal(q, 'inbox', null);
    });
  }
  unfetchedUids(mailbox: string, folder: string) {
    return this.read((q) => cache.unfetchedUids(q, mailbox, folder));
  }
  emailsByUid(mailbox: string, folder: string, uids: readonly number[]) {
    return this.read((q) => inbox.emailsByUid(q, mailbox, folder, uids));
  }

  findReply(mailbox: string, header: string) {
    return this.read((q) => inbox.findReplyTo(q, mailbox, header));
  }
  threadOf(mailbox: string, key: string, limit: number) {
    return this.read(async (q) => ({
      emails: await inbox.threadEmailRows(q, mailbox, key, limit),
      sent: await messages.sentInThreadRows(q, mailbox, key, limit),
    }));
  }
  listCaptured(limit: number) {
    return this.read((q) => inbox.listCapturedRows(q, limit));
  }
  audit(query: Parameters<typeof queryAudit>[1]) {
    return this.read((q) => queryAudit(q, query));
  }
  recordDenial(d: Denial, now: number) {
    return this.tx(async (q) => {
      const { actor, mailbox, ...detail } = d;
      await appendAudit(q, { actor, action: 'authz.denied', mailbox: mailbox ?? null, detail }, now);
    });
  }
  verifyAudit(anchor?: string) {
    return this.read((q) => verifyAuditChain(q, anchor));
  }

  createToken(t: tokens.NewToken, actor: string, now: number) {
    return this.tx((q) => tokens.insertToken(q, t, actor, now));
  }
  listTokens() {
    return this.read((q) => tokens.listTokens(q));
  }
  getToken(tokenId: string) {
    return this.read((q) => tokens.getToken(q, tokenId));
  }
  findTokenByHash(secretHash: string) {
    return this.read((q) => tokens.findTokenByHash(q, secretHash));
  }
  touchToken(tokenId: string, now: number) {
    return this.tx((q) => tokens.touchToken(q, tokenId, now));
  }
  revokeToken(idOrName: string, actor: string, now: number) {
    return this.tx((q) => tokens.revokeToken(q, idOrName, actor, now));
  }

  recordConfirmationRequest(req: links.ConfirmationRequest, now: number) {
    return this.tx((q) => links.recordConfirmationRequest(q, req, now));
  }
  findApprovalLink(secretHash: string) {
    return this.read((q) => links.findLinkByHash(q, secretHash));
  }
  approvalLinkProblem(link: links.ApprovalLink, now: number) {
    return this.read((q) => linkRules.linkProblem(q, link, now));
  }
  spendApprovalLink(linkId: string, now: number) {
    return this.tx((q) => links.spendLink(q, linkId, now));
  }
  recordChangeConfirmationRequest(req: links.ChangeConfirmationRequest, now: number) {
    return this.tx((q) => links.recordChangeRequest(q, req, now));
  }
  findChangeLink(secretHash: string) {
    return this.read((q) => links.findChangeLinkByHash(q, secretHash));
  }
  changeLinkProblem(link: links.ChangeLink, now: number) {
    return this.read((q) => linkRules.changeLinkProblem(q, link, now));
  }
  approveWithLink(link: links.ApprovalLink, note: string | null, now: number) {
    // tryTx: a refused link stays spent (and an expiry found by the decision stays recorded).
    return this.tryTx((q) => linkRules.approveWithLinkInTx(q, link, note, now));
  }

  // ---- Webhooks ----
  addWebhookEndpoint(ep: endpoints.NewWebhookEndpoint, actor: string, now: number) {
    return this.tx((q) => endpoints.addEndpointInTx(q, ep, 'operator', actor, now));
  }
  removeWebhookEndpoint(id: string, actor: string, reason: string | null, now: number) {
    return this.tx((q) => webhookOps.removeEndpointInTx(q, id, { actor, reason, allowConfig: false }, now));
  }
  listWebhookEndpoints(query: { include_disabled: boolean }) {
    return this.read((q) => endpoints.listEndpoints(q, query));
  }
  syncConfigWebhooks(wanted: readonly endpoints.NewWebhookEndpoint[], actor: string, now: number) {
    return this.tx((q) => webhookOps.syncConfigInTx(q, wanted, actor, now));
  }
  claimWebhookDeliveries(owner: string, now: number, leaseMs: number, limit: number) {
    return this.tx((q) => webhooks.claimDue(q, owner, now, leaseMs, limit));
  }
  recordWebhookAttempt(d: { event_id: string; endpoint_id: string }, owner: string, outcome: webhooks.WebhookAttemptOutcome, now: number) {
    return this.tx((q) => webhookOps.recordWebhookAttemptInTx(q, d, owner, outcome, now));
  }
  abandonWebhookLeases(isDead: (owner: string) => boolean, now: number) {
    return this.tx((q) => webhooks.abandonLeases(q, isDead, now));
  }
  onWebhookQueued(listener: () => void) {
    return webhooks.onQueued(this.driver, listener);
  }

  // ---- Several instances: change signals and named leases ----
  onChange(listener: (c: StoreChange) => void) {
    // The topics are those src/domain/signals.ts and the drivers send, which are ChangeTopic's.
    return this.driver.listen((c) => listener(c as StoreChange));
  }
  acquireLease(name: string, owner: string, ttlMs: number, now: number) {
    return this.tx((q) => leases.acquireLease(q, name, owner, now + ttlMs, now));
  }
  dropLease(name: string, owner: string) {
    return this.tx(async (q) => {
      const dropped = await leases.releaseLease(q, name, owner);
      if (dropped) signal(q, 'lease', null);
      return dropped;
    });
  }
  leaseHolder(name: string, now: number) {
    return this.read((q) => leases.leaseHolder(q, name, now));
  }
}
