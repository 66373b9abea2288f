/**
 * The mail ports: what services need from a transport, and nothing about how it is done. The sandbox
 * implements them on SQLite; the IMAP/SMTP adapters implement them on imapflow and nodemailer.
 */
import type { Mailbox, OutboundMessage, TagAction } from '../store/store.js';

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
  constructor(message: string, readonly kind: 'transient' | 'permanent' | 'unknown_outcome') {
    super(message);
    this.name = 'DeliveryError';
  }
}

export interface Sender {
  /** True when sending the same message twice is harmless (the sandbox dedupes); SMTP is not. */
  readonly idempotent: boolean;
  send(message: OutboundMessage): Promise<SendReceipt>;
}

export interface MailboxPort {
  /** Brings the local copy of a folder up to date before a read (nothing to do for the sandbox). */
  sync(folder: string): Promise<void>;
  /** Applies flag changes and a move to one email. */
  applyTag(action: TagAction): Promise<void>;
}

export interface Transport {
  readonly sender: Sender;
  readonly mailbox: MailboxPort;
}

export interface TransportRegistry {
  forMailbox(mailbox: Mailbox): Transport;
  close(): Promise<void>;
}
