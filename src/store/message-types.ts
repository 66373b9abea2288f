/** The outbound message's record types, apart from its SQL (messages.ts re-exports them). */
import type { PolicyHit } from '../gate/policy/index.js';
import type { MessageStatus } from '../values.js';
export type MessageKind = 'send' | 'reply';

/** A write on an inbound email (tag_email), held or applied as a mailbox action (src/store/mailbox-actions.ts). */
export interface TagAction {
  email_id: string;
  add_flags: string[];
  remove_flags: string[];
  move_to: string | null;
  /**
   * delete_email: `trash` moves the email to the special-use \Trash folder, `permanent` deletes it for good
   * (only where the policy's allow_permanent_delete is on). Absent for a tag; the flags are then empty.
   */
  delete?: 'trash' | 'permanent' | undefined;
}

export interface MessageContent {
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  text: string | null;
  html: string | null;
}

/** An attachment as listed on a message: the bytes stay in message_attachments. */
export interface AttachmentMeta {
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
}

export interface AttachmentFile extends AttachmentMeta {
  content: Buffer;
}

export interface OutboundMessage extends MessageContent {
  message_id: string;
  mailbox: string;
  kind: MessageKind;
  status: MessageStatus;
  from_addr: string;
  tag_action: TagAction | null;
  reply_to_email_id: string | null;
  message_id_header: string;
  in_reply_to_header: string | null;
  references_header: string | null;
  metadata: Record<string, unknown> | null;
  content_hash: string;
  idempotency_key: string | null;
  created_by: string;
  mode_at_submit: string;
  gate_code: string;
  gate_reason: string;
  gate_rule: string | null;
  notify: boolean;
  created_at: number;
  expires_at: number | null;
  decided_at: number | null;
  decided_by: string | null;
  decision_reason: string | null;
  original_content: MessageContent | null;
  attempts: number;
  next_attempt_at: number | null;
  lease_owner: string | null;
  lease_until: number | null;
  last_error: string | null;
  transmitting_at: number | null;
  smtp_response: string | null;
  sent_at: number | null;
  updated_at: number;
  policy_hits: PolicyHit[];
  /** The content hash that was approved (by a reviewer, or by the gate for mail that went straight out). */
  approved_hash: string | null;
  thread_key: string | null;
  attachments: AttachmentMeta[];
  /** The content hash with recipient lists sorted, for duplicate detection (null for held writes and old rows). */
  dedupe_hash: string | null;
  /** Attachment bytes, loaded by the delivery worker just before sending; never part of a row. */
  files?: readonly AttachmentFile[];
}

export interface PendingPage {
  messages: OutboundMessage[];
  next_cursor: string | null;
}

/** Metadata pairs a listed message must all carry, each value equal as a JSON scalar (string 1 is not number 1). */
type MetadataFilter = Readonly<Record<string, string | number | boolean>>;

/** Pending messages oldest first, paged by (created_at, message_id) keyset so a page costs the same at any depth. */
/** `mailboxes` limits the page to a principal's mailboxes (src/services/scope.ts). */
export interface PendingQuery {
  mailbox?: string | undefined;
  mailboxes?: readonly string[] | undefined;
  metadata?: MetadataFilter | undefined;
  limit: number;
  cursor?: string | undefined;
  now: number;
}

/** Messages in one status (or any), newest first, with the same keyset paging and filters as PendingQuery. */
export interface StatusQuery extends Omit<PendingQuery, 'now'> {
  status: MessageStatus | 'any';
}

export interface MessageQuery {
  mailbox?: string | undefined;
  mailboxes?: readonly string[] | undefined;
  since?: number | undefined;
}
