/**
 * The mail ports: what services need from a transport, and nothing about how it is done. The sandbox
 * implements them on SQLite; the IMAP/SMTP adapters implement them on imapflow and nodemailer.
 */
import type { InboundEmail, Mailbox, OutboundMessage, TagAction } from '../store/store.js';

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
    readonly kind: 'transient' | 'permanent' | 'unknown_outcome',
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
}

export interface Sender {
  /** True when sending the same message twice is harmless (the sandbox dedupes); SMTP is not. */
  readonly idempotent: boolean;
  send(message: OutboundMessage, hooks: SendHooks): Promise<SendReceipt>;
}

export interface MailboxPort {
  /** Brings the local copy of a folder up to date before a read (nothing to do for the sandbox). */
  sync(folder: string): Promise<void>;
  /**
   * Fetches and parses the full messages of those whose envelope only is cached, all from one folder, in one
   * round trip (nothing to do for the sandbox).
   */
  loadBodies(folder: string, emails: readonly InboundEmail[]): Promise<void>;
  /**
   * Asks the server which of the given cached-but-unfetched UIDs match the query (IMAP SEARCH TEXT), for the
   * part of a search the local index cannot answer. Absent for the sandbox, whose index is complete.
   */
  searchServer?(folder: string, query: string, uids: readonly number[]): Promise<number[]>;
  /** Applies flag changes and a move to one email. */
  applyTag(action: TagAction): Promise<void>;
}

export interface Transport {
  readonly sender: Sender;
  readonly mailbox: MailboxPort;
}

export interface TransportRegistry {
  /** Whether this process can reach the mailbox (a sandbox one always; a real one only with its account). */
  canServe(mailbox: Mailbox): boolean;
  forMailbox(mailbox: Mailbox): Transport;
  close(): Promise<void>;
}
