/**
 * The store's domain operations. Each is atomic inside the backend and awaited by the caller: one transaction on
 * SQLite (BEGIN IMMEDIATE) or PostgreSQL (row and advisory locks), without touching services, tools or the gate.
 */
import type { EffectivePolicy, PolicySettings } from '../gate/policy/index.js';
import type { Decision, Facts } from '../gate/types.js';
import type { AuditEvent, AuditQuery, VerifyResult } from './audit.js';
import type { CachedEnvelope, FolderState, FolderSync, ParsedBody } from './imap-cache.js';
import type { CapturedMail, InboundEmail, NewEmail, SearchQuery } from './inbox.js';
import type { Mailbox } from './mailboxes.js';
import type { Suppression } from './suppressions.js';
import type { ActionOutcome, ActionRequest, MailboxAction } from './mailbox-actions.js';
import type { AttachmentFile, MessageContent, MessageKind, MessageQuery, OutboundMessage, PendingPage, PendingQuery, TagAction } from './messages.js';
import type { StatusQuery } from './message-types.js';
import type { ApprovalLink, ChangeConfirmationRequest, ChangeLink, ConfirmationRequest, MailboxChange } from './approval-links.js';
import type { NewToken, TokenRecord } from './tokens.js';
import type { NewWebhookEndpoint, WebhookEndpoint, WebhookSyncResult } from './webhook-endpoints.js';
import type { DueWebhookDelivery, WebhookAttemptOutcome } from './webhooks.js';
import type { StoreChange } from './signals.js';
import type { ContactStore } from './contacts.js';

export type { DueWebhookDelivery, NewWebhookEndpoint, WebhookAttemptOutcome, WebhookEndpoint };
export type { ApprovalLink, ChangeLink, MailboxChange, TokenRecord };
export type { CachedEnvelope, FolderState, FolderSync, ParsedBody };
export type { Suppression };
export type { Contact } from './contacts.js';
export type { ChangeTopic, StoreChange } from './signals.js';
export type { ActionOutcome, MailboxAction };

/** A refusal for role or scope, as audited (authz.denied). The target is what was asked for, known or not. */
export interface Denial {
  actor: string;
  /** The tool, page or command used. */
  via: string | null;
  reason: string;
  roles?: readonly string[];
  /** The mailbox the target belongs to, when it exists: the event then shows in that mailbox's trail. */
  mailbox?: string | null;
  target?: string | null;
}

export type { AuditEvent, CapturedMail, InboundEmail, Mailbox, MessageContent, OutboundMessage, PendingPage, TagAction };

/**
 * The pure gate, closed over the action and global policy; the store supplies the mailbox, the facts and the
 * effective policy settings (global settings with the mailbox's own over them) the facts were read for.
 */
export type GateFn = (mailbox: Mailbox, facts: Facts, limits: EffectivePolicy) => Decision;

export interface NewAttachment {
  filename: string;
  content_type: string;
  content: Buffer;
}

export interface SubmitRequest {
  message_id: string;
  message_id_header: string;
  mailbox: string;
  kind: MessageKind;
  content: MessageContent;
  tag_action?: TagAction | null;
  reply_to_email_id?: string | null;
  in_reply_to_header?: string | null;
  references_header?: string | null;
  metadata?: Record<string, unknown> | null;
  idempotency_key?: string | null;
  actor: string;
  attachments?: readonly NewAttachment[];
  /** Delivery order is kept per thread (the thread's root Message-ID); null for held writes. */
  thread_key?: string | null;
  /** The global policy settings (config `policy`); the mailbox's own are read inside the transaction. */
  policy?: PolicySettings;
}

export interface SubmitResult {
  message: OutboundMessage;
  /** The gate's decision; on an idempotent replay, the decision recorded the first time. */
  decision: Decision;
  replayed: boolean;
}

export type DecideRequest =
  | {
      action: 'approve';
      actor: string;
      note?: string | null;
      edits?: Partial<MessageContent> | null;
      /** How the approval was confirmed (src/services/confirm.ts ConfirmationPath); kept in the audit detail. */
      confirmation?: string;
    }
  | { action: 'reject'; actor: string; reason: string }
  | { action: 'cancel'; actor: string; reason?: string | null };

export type DeliveryOutcome =
  | { kind: 'sent'; detail: Record<string, unknown> }
  /** `hold_mailbox_until`: the breaker opened; the whole mailbox sends nothing before then. */
  | { kind: 'retry'; error: string; next_attempt_at: number; hold_mailbox_until?: number | null }
  | { kind: 'failed'; error: string; bounced?: readonly string[] }
  | { kind: 'unknown'; error: string }
  /** Refused before transmission: the content no longer hashes to what was approved. Never retried. */
  | { kind: 'refused'; error: string }
  /** The account's config is wrong (authentication, TLS): stays queued and uncharged; deliveries pause (audited, with a hint). */
  | { kind: 'paused'; error: string; hint: string; settings_digest: string | null };

/** A mailbox to create; `config_digest` only when the config file creates it. */
export type NewMailbox = Omit<Mailbox, 'created_at' | 'updated_at' | 'config_digest'> & { config_digest?: string | null };

export interface MailboxPatch {
  display_name?: string | null;
  oversight_mode?: Mailbox['oversight_mode'];
  mode_source?: string;
  auto_approve_rules?: Mailbox['auto_approve_rules'];
  pending_ttl_seconds?: number;
  transport?: Mailbox['transport'];
  policy?: PolicySettings;
  metadata?: Record<string, string | number | boolean>;
}

/** How a change is recorded beyond the patch itself (the config file's apply uses both). */
export interface MailboxUpdateOptions {
  /** Merged into the audit event's detail (e.g. `{ source: 'config:FILE', loosened: true }`). */
  detail?: Record<string, unknown>;
  /** The config file entry's digest to record with the change, even when nothing else changes (never audited alone). */
  configDigest?: string;
  /**
   * A person confirmed the change against this state of the mailbox (mailboxStateHash): if the mailbox is no
   * longer in it, nothing changes and LINK_INVALID is thrown, so a stale confirmation never applies.
   */
  expectStateHash?: string;
}

export interface MailboxUpdateResult {
  mailbox: Mailbox;
  changed: string[];
  /** Held messages in the mailbox, none of which the change touched. */
  pending_unaffected: number;
  /** Mail the gate had let go but not yet sent, taken back because the mode tightened (held again, or cancelled under read_only). */
  retaken?: number;
}

export interface Store extends ContactStore {
  listMailboxes(): Promise<Mailbox[]>;
  getMailbox(address: string): Promise<Mailbox | undefined>;
  createMailbox(m: NewMailbox, actor: string, now: number, opts?: Pick<MailboxUpdateOptions, 'detail'>): Promise<Mailbox>;
  updateMailbox(address: string, patch: MailboxPatch, actor: string, reason: string, now: number, opts?: MailboxUpdateOptions): Promise<MailboxUpdateResult>;
  /** Who last created or changed the mailbox and when (from the audit chain). */
  lastMailboxChange(address: string): Promise<{ actor: string; at: number } | undefined>;
  setContactLists(lists: Record<string, readonly string[]>): Promise<void>;
  /** The subset of `addresses` this mailbox has sent mail to before. */
  knownCorrespondents(mailbox: string, addresses: readonly string[]): Promise<Set<string>>;

  submitMessage(req: SubmitRequest, gate: GateFn, now: number): Promise<SubmitResult>;
  decideMessage(id: string, req: DecideRequest, now: number): Promise<OutboundMessage>;
  expireDue(now: number, limit: number): Promise<OutboundMessage[]>;
  /** Claims due messages of the given mailboxes (those this process can deliver for), each with a lease. */
  claimForDelivery(owner: string, now: number, leaseMs: number, limit: number, mailboxes: readonly string[]): Promise<OutboundMessage[]>;
  /**
   * Records that the message is about to be committed to the transport (the final dot). Fails if this owner
   * no longer holds the lease, so a stale worker aborts before it can send a second copy.
   */
  markTransmitting(id: string, owner: string, now: number): Promise<void>;
  /**
   * Records the outcome if `owner` still holds the lease; `charge` counts this delivery as one attempt (when
   * the sender did not already count it at MAIL FROM with chargeAttempt).
   */
  recordOutcome(id: string, owner: string, outcome: DeliveryOutcome, now: number, opts?: { charge?: boolean }): Promise<OutboundMessage | undefined>;
  /** Counts one delivery attempt for the lease holder: a transmission is about to be tried. Fails if the lease was lost. */
  chargeAttempt(id: string, owner: string, now: number): Promise<void>;
  /** Ends this owner's lease now (its outcome could not be recorded), so any worker's next pass recovers the message. */
  releaseLease(id: string, owner: string, now: number): Promise<boolean>;
  /** Lifts a mailbox's delivery pause (audited mailbox.resumed); false when it was not paused. */
  resumeDeliveries(address: string, actor: string, reason: string, now: number): Promise<boolean>;
  /** A person's answer to outcome_unknown: delivered -> sent, not delivered -> failed (audited message.resolved). */
  resolveOutcome(id: string, resolution: { delivered: boolean }, actor: string, reason: string, now: number): Promise<OutboundMessage>;
  /** Ends the leases of owners known to be dead (a killed process on this host), so recovery need not wait. */
  abandonLeases(isDead: (owner: string) => boolean, now: number): Promise<number>;
  /** Messages whose delivery lease ran out (the process died): requeued if safe, else outcome_unknown. */
  recoverLeases(now: number, safeToRetry: (m: OutboundMessage) => boolean): Promise<OutboundMessage[]>;
  getMessage(id: string): Promise<OutboundMessage | undefined>;
  /** The attachment bytes of an outbound message, in order. */
  loadAttachments(id: string): Promise<AttachmentFile[]>;
  /** Every outbound message, oldest first, optionally of one mailbox and created at or after `since`. */
  listMessages(q: MessageQuery): Promise<OutboundMessage[]>;
  /** Held messages that can still be decided (expires_at after `now`), oldest first; listByStatus: one status or any, newest first. */
  listPending(q: PendingQuery): Promise<PendingPage>;
  listByStatus(q: StatusQuery): Promise<PendingPage>;
  /** How long people took to decide this mailbox's held mail (ms), newest decisions first (messages.ts). */
  reviewDurations(mailbox: string, limit: number): Promise<number[]>;

  /** Held mailbox actions (src/store/mailbox-actions.ts): submitted with the gate evaluated inside the transaction. */
  submitAction(req: ActionRequest, gate: GateFn, now: number): Promise<MailboxAction>;
  decideAction(id: string, req: DecideRequest, now: number): Promise<MailboxAction>;
  getAction(id: string): Promise<MailboxAction | undefined>;
  listPendingActions(q: { mailbox?: string | undefined; mailboxes?: readonly string[] | undefined; limit: number; now: number }): Promise<MailboxAction[]>;
  /** Expires held actions past their expiry (audited message.expired), at most `limit`. */
  expireDueActions(now: number, limit: number): Promise<MailboxAction[]>;
  /** Claims approved actions of these mailboxes, each with a lease. */
  claimActions(owner: string, now: number, leaseMs: number, limit: number, mailboxes: readonly string[]): Promise<MailboxAction[]>;
  /** Records applied / failed / retry if `owner` still holds the lease. */
  recordActionOutcome(id: string, owner: string, outcome: ActionOutcome, now: number): Promise<MailboxAction | undefined>;

  getEmail(id: string): Promise<InboundEmail | undefined>;
  listEmails(q: { mailbox: string; folder: string; unread_only: boolean; limit: number }): Promise<InboundEmail[]>;
  listFolders(mailbox: string): Promise<string[]>;
  searchEmails(q: SearchQuery): Promise<InboundEmail[]>;
  applyTag(action: TagAction): Promise<InboundEmail | undefined>;
  recordRead(email: InboundEmail, actor: string, now: number): Promise<void>;
  /** Local delivery for the sandbox transport: each copy at most once, however often it is called. */
  deliverSandbox(m: OutboundMessage, local: readonly string[], external: readonly string[], now: number): Promise<void>;
  insertInbound(e: NewEmail, now: number): Promise<string | null>;
  findReply(mailbox: string, messageIdHeader: string): Promise<InboundEmail | undefined>;
  /** A thread's inbound emails and the mail this mailbox sent in it (status sent), for comparing a reply with. */
  threadOf(mailbox: string, threadKey: string, limit: number): Promise<{ emails: InboundEmail[]; sent: OutboundMessage[] }>;

  /** IMAP cache (src/store/imap-cache.ts). */
  getFolderState(mailbox: string, folder: string): Promise<FolderState | undefined>;
  cachedUids(mailbox: string, folder: string, uidvalidity: number): Promise<number[]>;
  cachedCount(mailbox: string, folder: string, uidvalidity: number): Promise<number>;
  applyFolderSync(sync: FolderSync, now: number): Promise<string[]>;
  setEmailBody(emailId: string, body: ParsedBody): Promise<void>;
  /** Many bodies in one transaction (a batch fetched together). */
  setEmailBodies(bodies: readonly (readonly [emailId: string, body: ParsedBody])[]): Promise<void>;
  unfetchedUids(mailbox: string, folder: string): Promise<number[]>;
  emailsByUid(mailbox: string, folder: string, uids: readonly number[]): Promise<InboundEmail[]>;
  listCaptured(limit: number): Promise<CapturedMail[]>;

  /** The suppression list (src/store/suppressions.ts). Add and remove return false when nothing changed. */
  addSuppression(s: Omit<Suppression, 'created_at'>, now: number): Promise<boolean>;
  removeSuppression(q: { scope: string; kind: 'address' | 'domain'; value: string }, actor: string, now: number): Promise<boolean>;
  listSuppressions(q: { scope?: string | undefined; limit: number }): Promise<Suppression[]>;
  syncConfigSuppressions(entries: readonly { kind: 'address' | 'domain'; value: string }[], actor: string, now: number): Promise<void>;
  /** The gate's decision for a draft, with the real facts, without recording anything (`mailgate policy test`). */
  simulateSubmit(req: SubmitRequest, gate: GateFn, now: number): Promise<Decision>;

  /** How personal data enters the audit chain from now on (src/store/personal-data.ts). */
  setPersonalDataMode(mode: 'inline' | 'hashed'): Promise<void>;
  /** Erases a decided message's personal data (GDPR Art. 17) and audits it; the chain still verifies. */
  eraseMessage(id: string, actor: string, reason: string, now: number): Promise<void>;

  audit(q: AuditQuery): Promise<AuditEvent[]>;
  /** Audits a refusal for role or mailbox scope (authz.denied): who, through what, at what. */
  recordDenial(d: Denial, now: number): Promise<void>;
  /** Walks the chain; with `anchor` (a head hash recorded earlier) also checks that event is still there. */
  verifyAudit(anchor?: string): Promise<VerifyResult>;

  /** Principal tokens (src/store/tokens.ts); only a sha256 of each secret is stored. */
  createToken(t: NewToken, actor: string, now: number): Promise<TokenRecord>;
  listTokens(): Promise<TokenRecord[]>;
  getToken(tokenId: string): Promise<TokenRecord | undefined>;
  findTokenByHash(secretHash: string): Promise<(TokenRecord & { secret_hash: string }) | undefined>;
  /** Notes the token's use (if its last use is a minute old) and returns it as it is now (revoked or not). */
  touchToken(tokenId: string, now: number): Promise<TokenRecord | undefined>;
  revokeToken(idOrName: string, actor: string, now: number): Promise<TokenRecord>;

  /** A person is asked to confirm an approval (src/store/approval-links.ts); URL mode stores a one-time link. */
  recordConfirmationRequest(req: ConfirmationRequest, now: number): Promise<void>;
  findApprovalLink(secretHash: string): Promise<(ApprovalLink & { secret_hash: string }) | undefined>;
  /** Why the link cannot approve now (used, expired, message changed or decided), or null. */
  approvalLinkProblem(link: ApprovalLink, now: number): Promise<string | null>;
  spendApprovalLink(linkId: string, now: number): Promise<boolean>;
  /** Spends the link and approves its message in one transaction (LINK_INVALID if it cannot). */
  approveWithLink(link: ApprovalLink, note: string | null, now: number): Promise<OutboundMessage>;
  /** A person is asked to confirm a change that loosens a mailbox; URL mode stores a one-time change link. */
  recordChangeConfirmationRequest(req: ChangeConfirmationRequest, now: number): Promise<void>;
  findChangeLink(secretHash: string): Promise<(ChangeLink & { secret_hash: string }) | undefined>;
  /** Why the change link cannot apply now (used, expired, mailbox changed since), or null. */
  changeLinkProblem(link: ChangeLink, now: number): Promise<string | null>;

  // ---- Webhooks (src/store/webhooks.ts: the outbox; src/store/webhook-endpoints.ts: endpoints) ----
  /** Adds an operator endpoint (audited as webhook.added). */
  addWebhookEndpoint(ep: NewWebhookEndpoint, actor: string, now: number): Promise<WebhookEndpoint>;
  /** Disables an operator endpoint and drops its pending deliveries (audited as webhook.removed). */
  removeWebhookEndpoint(id: string, actor: string, reason: string | null, now: number): Promise<WebhookEndpoint>;
  listWebhookEndpoints(q: { include_disabled: boolean }): Promise<WebhookEndpoint[]>;
  /** Brings the config file's endpoints into the table (source 'config'); missing ones are disabled. */
  syncConfigWebhooks(wanted: readonly NewWebhookEndpoint[], actor: string, now: number): Promise<WebhookSyncResult>;
  /** Claims due deliveries with a lease (compare-and-set), one attempt each. */
  claimWebhookDeliveries(owner: string, now: number, leaseMs: number, limit: number): Promise<DueWebhookDelivery[]>;
  /** Records an attempt if `owner` still holds the lease; false when it was lost. */
  recordWebhookAttempt(d: { event_id: string; endpoint_id: string }, owner: string, outcome: WebhookAttemptOutcome, now: number): Promise<boolean>;
  abandonWebhookLeases(isDead: (owner: string) => boolean, now: number): Promise<number>;
  /** Called after a commit of this store that queued webhook deliveries. Returns the unsubscribe function. */
  onWebhookQueued(listener: () => void): () => void;

  // ---- Several instances on one database: change signals and named leases ----
  /**
   * Calls `listener` after each change committed on this database: by this store (`local`, delivered as soon as
   * afterCommit callbacks are), by other stores of this process on the same SQLite file, and (PostgreSQL) by every
   * other instance, through LISTEN/NOTIFY. Returns the unsubscribe function.
   */
  onChange(listener: (c: StoreChange) => void): () => void;
  /** Takes or renews the lease `name` for `owner` for `ttlMs` if it is free, expired or already owner's; true when owner holds it. */
  acquireLease(name: string, owner: string, ttlMs: number, now: number): Promise<boolean>;
  /** Gives the lease up now, signalled as `lease` so another instance can take over at once; false when owner did not hold it. */
  dropLease(name: string, owner: string): Promise<boolean>;
  /** Who holds the lease now, or undefined. */
  leaseHolder(name: string, now: number): Promise<string | undefined>;
  close(): Promise<void>;
}
