/**
 * The mail ports: what services need from a transport, and nothing about how it is done. The IMAP/SMTP
 * adapters implement them on imapflow and nodemailer and return what they fetched; services persist it.
 * The sandbox's sender is a store write (src/services/sandbox.ts) and it has no MailboxPort: its mail lives
 * in the store already.
 */
import type { ErrorCode } from '../errors.js';
import type { CachedEnvelope, Mailbox, OutboundMessage, ParsedBody, TagAction } from '../store/store.js';

export interface SendReceipt {
  /** Recipients the transport accepted (delivered, relayed, or captured by the sandbox). */
  accepted: string[];
  /** Sandbox only: recipients outside the sandbox, captured and never sent. */
  captured: string[];
  detail: Record<string, unknown>;
}

/**
 * A delivery failure, classified. `permanent` failures are not retried; `unknownOutcome` means the message
 * may have been accepted (lost connection after the final dot) and must never be resent automatically.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** `config`: the account's settings are wrong (authentication, TLS); the mailbox's deliveries pause. */
    readonly kind: 'transient' | 'permanent' | 'unknown_outcome' | 'config',
    /** Recipients the server refused for good (a hard bounce at RCPT TO): they go on the suppression list. */
    readonly bounced: readonly string[] = [],
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface SendHooks {
  /**
   * Called once the whole message has been handed over and just before the transport commits to it (the
   * final dot of SMTP DATA). The worker records `transmitting` here; if it throws, nothing is committed.
   */
  beforeFinalDot(): Promise<void>;
  /**
   * Called just before the envelope (SMTP MAIL FROM) is sent: from here a transmission was tried, and the
   * worker counts it as a delivery attempt (a crash before it is not charged). If it throws, nothing is sent.
   */
  beforeMailFrom?(): Promise<void>;
}

export interface Sender {
  /** True when sending the same message twice is harmless (the sandbox dedupes); SMTP is not. */
  readonly idempotent: boolean;
  send(message: OutboundMessage, hooks: SendHooks): Promise<SendReceipt>;
  /**
   * A salted digest of the account settings a `config` failure depends on (host, port, TLS, credentials),
   * so a paused mailbox resumes once they change; never the secret itself. Absent where nothing can fail so.
   */
  settingsDigest?(salt: string): string;
}

/** What the cache knows of a folder, read by the service before a sync so the adapter can compute a delta. */
export interface KnownFolder {
  uidvalidity: number;
  uidnext: number;
  highestmodseq: string | null;
  /** The cached UIDs (of this UIDVALIDITY): compared with the server's only when the counts disagree. */
  uids: readonly number[];
}

/** A folder's state on the server after a sync. */
interface FolderSnapshot {
  uidvalidity: number;
  uidnext: number;
  /** CONDSTORE's HIGHESTMODSEQ (RFC 7162), null where the server has none. */
  highestmodseq: string | null;
  messages: number;
  special_use: string | null;
}

/** What changed in a folder since the KnownFolder the sync was given. */
export interface SyncDelta {
  folder: string;
  state: FolderSnapshot;
  /** First sync or a UIDVALIDITY change (RFC 3501 §2.3.1.1): the cached copy is void and must be dropped first. */
  reset: boolean;
  /** Envelopes of new messages (every message when reset). */
  envelopes: CachedEnvelope[];
  /** Flags of known messages that changed (CONDSTORE CHANGEDSINCE, or all flags without it). */
  flagChanges: { uid: number; flags: string[] }[];
  /** Cached UIDs the server no longer has (expunged or moved away). */
  vanished: number[];
}

/** The outcome of a flag change or move on the server. A transient failure is thrown (UNAVAILABLE) instead. */
export interface TagResult {
  /** What the server accepted, in the order asked: flags added, flags removed, the folder the email moved to. */
  added: string[];
  removed: string[];
  moved_to: string | null;
  /** A permanent delete_email: the email is gone from the server (STORE \Deleted + UID EXPUNGE). */
  deleted?: boolean;
  /** Set when the server refused part of it for good (the parts after it were not attempted); never retried. */
  refused: { code: ErrorCode; reason: string } | null;
}

export interface MailboxPort {
  /** Fetches what changed in a folder since `known` (everything when `known` is undefined). Writes nothing. */
  sync(folder: string, known: KnownFolder | undefined): Promise<SyncDelta>;
  /**
   * Fetches and parses the full messages with these UIDs, all from one folder, in one round trip. UIDs the
   * server no longer has are absent from the map. `background`: for the body prefetch, on a connection of its
   * own where the port has one, so a foreground read never queues behind a prefetch batch.
   */
  loadBodies(folder: string, uids: readonly number[], opts?: { background?: boolean }): Promise<Map<number, ParsedBody>>;
  /**
   * Asks the server which of the given cached-but-unfetched UIDs match the query (IMAP SEARCH TEXT), for the
   * part of a search the local index cannot answer.
   */
  searchServer(folder: string, query: string, uids: readonly number[]): Promise<number[]>;
  /** Applies flag changes and a move to one email on the server. */
  applyTag(email: { folder: string; uid: number }, change: Omit<TagAction, 'email_id'>): Promise<TagResult>;
  /**
   * Starts server push for INBOX (IMAP IDLE, RFC 2177): `onChange` is called on every change the server
   * reports and after every reconnect, so the caller resyncs.
   */
  watch(onChange: (why: string) => void): Promise<void>;
  /** Stops the push channel (another instance watches this mailbox now); watch() may start it again. */
  unwatch(): Promise<void>;
  /** Prepares for a first read that is likely to come soon (connects, loads what reading needs); never waits. */
  warmUp?(): void;
  /** True while the push channel is up, so a folder synced since its last notice is current. */
  readonly watching: boolean;
}

export interface Transport {
  readonly sender: Sender;
  /** Absent for the sandbox: its mailboxes are the store itself, so reads and tags are store operations. */
  readonly mailbox?: MailboxPort | undefined;
}

export interface TransportRegistry {
  /** Whether this process can reach the mailbox (a sandbox one always; a real one only with its account). */
  canServe(mailbox: Mailbox): boolean;
  forMailbox(mailbox: Mailbox): Transport;
  close(): Promise<void>;
}

/** One folder of a mailbox as list_folders shows it (IMAP LIST + STATUS, or the sandbox's folders). */
export interface FolderInfo {
  path: string;
  name: string;
  /** The hierarchy delimiter (RFC 3501 §6.3.8), null where the folders are flat (the sandbox). */
  delimiter: string | null;
  /** RFC 6154 special use without the backslash, lower case (`sent`, `trash` ...), or null. */
  special_use: string | null;
  /** STATUS MESSAGES and UNSEEN; null for a folder that cannot be selected (\Noselect). */
  messages: number | null;
  unread: number | null;
  selectable: boolean;
}

/** One attachment's decoded bytes, as fetched from the server or the store. */
export interface AttachmentContent {
  content: Buffer;
  content_type: string;
  filename: string;
  /** The IMAP body part it came from (BODYSTRUCTURE numbering), null for the sandbox. */
  part_id: string | null;
}
