/**
 * The store's domain operations. Each is atomic inside the backend and awaited by the caller: SQLite runs
 * each in one synchronous BEGIN IMMEDIATE transaction; a PostgreSQL backend can implement the same interface
 * with row locks, without touching services, tools or the gate.
 */
import type { Decision, Facts } from '../gate/types.js';
import type { AuditEvent, AuditQuery, VerifyResult } from './audit.js';
import type { CachedEnvelope, FolderState, FolderSync, ParsedBody } from './imap-cache.js';
import type { CapturedMail, InboundEmail, NewEmail } from './inbox.js';
import type { Mailbox } from './mailboxes.js';
import type { MessageContent, MessageKind, OutboundMessage, PendingPage, TagAction } from './messages.js';

export type { CachedEnvelope, FolderState, FolderSync, ParsedBody };
export type { AuditEvent, CapturedMail, InboundEmail, Mailbox, MessageContent, OutboundMessage, PendingPage, TagAction };

/** The pure gate, closed over the action and global policy; the store supplies the mailbox and facts. */
export type GateFn = (mailbox: Mailbox, facts: Facts) => Decision;

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
}

export interface SubmitResult {
  message: OutboundMessage;
  /** The gate's decision; on an idempotent replay, the decision recorded the first time. */
  decision: Decision;
  replayed: boolean;
}

export type DecideRequest =
  | { action: 'approve'; actor: string; note?: string | null; edits?: Partial<MessageContent> | null }
  | { action: 'reject'; actor: string; reason: string }
  | { action: 'cancel'; actor: string; reason?: string | null };

export type DeliveryOutcome =
  | { kind: 'sent'; detail: Record<string, unknown> }
  | { kind: 'retry'; error: string; next_attempt_at: number }
  | { kind: 'failed'; error: string }
  | { kind: 'unknown'; error: string };

export interface MailboxPatch {
  display_name?: string | null;
  oversight_mode?: Mailbox['oversight_mode'];
  mode_source?: string;
  auto_approve_rules?: Mailbox['auto_approve_rules'];
  pending_ttl_seconds?: number;
  transport?: Mailbox['transport'];
}

export interface MailboxUpdateResult {
  mailbox: Mailbox;
  changed: string[];
  /** Held messages in the mailbox, none of which the change touched. */
  pending_unaffected: number;
}

export interface Store {
  listMailboxes(): Promise<Mailbox[]>;
  getMailbox(address: string): Promise<Mailbox | undefined>;
  createMailbox(m: Omit<Mailbox, 'created_at' | 'updated_at'>, actor: string, now: number): Promise<Mailbox>;
  updateMailbox(address: string, patch: MailboxPatch, actor: string, reason: string, now: number): Promise<MailboxUpdateResult>;
  setContactLists(lists: Record<string, readonly string[]>): Promise<void>;

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
  recordOutcome(id: string, owner: string, outcome: DeliveryOutcome, now: number): Promise<OutboundMessage | undefined>;
  /** Ends the leases of owners known to be dead (a killed process on this host), so recovery need not wait. */
  abandonLeases(isDead: (owner: string) => boolean, now: number): Promise<number>;
  /** Messages whose delivery lease ran out (the process died): requeued if safe, else outcome_unknown. */
  recoverLeases(now: number, safeToRetry: (m: OutboundMessage) => boolean): Promise<OutboundMessage[]>;
  getMessage(id: string): Promise<OutboundMessage | undefined>;
  /** Every outbound message, oldest first, optionally of one mailbox and created at or after `since`. */
  listMessages(q: { mailbox?: string | undefined; since?: number | undefined }): Promise<OutboundMessage[]>;
  /** Held messages that can still be decided (expires_at after `now`), oldest first. */
  listPending(q: { mailbox?: string | undefined; limit: number; cursor?: string | undefined; now: number }): Promise<PendingPage>;

  getEmail(id: string): Promise<InboundEmail | undefined>;
  listEmails(q: { mailbox: string; folder: string; unread_only: boolean; limit: number }): Promise<InboundEmail[]>;
  listFolders(mailbox: string): Promise<string[]>;
  searchEmails(q: { mailbox: string; query: string; folder?: string | undefined; limit: number }): Promise<InboundEmail[]>;
  applyTag(action: TagAction): Promise<InboundEmail | undefined>;
  recordRead(email: InboundEmail, actor: string, now: number): Promise<void>;
  /** Local delivery for the sandbox transport: each copy at most once, however often it is called. */
  deliverSandbox(m: OutboundMessage, local: readonly string[], external: readonly string[], now: number): Promise<void>;
  insertInbound(e: NewEmail, now: number): Promise<string | null>;
  findReply(mailbox: string, messageIdHeader: string): Promise<InboundEmail | undefined>;

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

  audit(q: AuditQuery): Promise<AuditEvent[]>;
  verifyAudit(): Promise<VerifyResult>;
  close(): Promise<void>;
}
