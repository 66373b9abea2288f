/**
 * What an approval binds to: a hash of exactly what would be sent (or done). The store records it when a
 * person approves; the delivery worker re-hashes what it is about to send against it, so anything changed
 * after the approval, by any path, is refused rather than sent. Pure (hashing only): the store and the
 * delivery service both use it, so the two can never disagree on what "the approved content" is.
 */
import { createHash } from 'node:crypto';

export interface BoundContent {
  to: readonly string[];
  cc: readonly string[];
  bcc: readonly string[];
  subject: string;
  text: string | null;
  html: string | null;
}

interface AttachmentDigest {
  filename: string;
  content_type: string;
  sha256: string;
}

/** What the content is, besides itself: the kind, the sending mailbox, the email it answers, the tag it applies. */
export interface BindingFrame {
  kind: string;
  mailbox: string;
  reply_to_email_id: string | null;
  tag_action: unknown;
  attachments: readonly AttachmentDigest[];
}

/**
 * The hash an approval binds to: the content plus what it is. One function for submit, replay and edits, so
 * the three can never drift apart.
 */
export function messageHash(m: BindingFrame, content: BoundContent): string {
  // Attachments join the hash only when there are some, so hashes of mail without them (and of mail made
  // before attachments existed) are unchanged.
  const files = m.attachments.length ? { attachments: m.attachments.map((a) => [a.filename, a.content_type, a.sha256]) } : {};
  const c = { to: content.to, cc: content.cc, bcc: content.bcc, subject: content.subject, text: content.text, html: content.html };
  return contentHash({ kind: m.kind, mailbox: m.mailbox, ...c, reply_to_email_id: m.reply_to_email_id, tag_action: m.tag_action, ...files });
}

/** A stable hash of exactly what would be sent (or done), so an approval binds to that content. */
function contentHash(content: Record<string, unknown>): string {
  const keys = Object.keys(content).sort();
  return createHash('sha256')
    .update(JSON.stringify(keys.map((k) => [k, content[k] ?? null])))
    .digest('hex');
}

/** The hex SHA-256 of an attachment's bytes, as the binding records it. */
export function attachmentSha256(content: Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/** A message as it is about to go out: its content, frame, sender and the hash its approval recorded. */
export interface OutgoingContent extends BoundContent, Omit<BindingFrame, 'attachments'> {
  from_addr: string;
  approved_hash: string | null;
}

/**
 * Why a message must not be sent, or null if it may: the content about to go out (the row as read now, and
 * the attachment bytes themselves) must hash to what was approved.
 */
export function approvalMismatch(m: OutgoingContent, files: readonly { filename: string; content_type: string; content: Uint8Array }[]): string | null {
  if (!m.approved_hash) return 'no approval is recorded for this content; not sending';
  // The sender is the mailbox by construction (and so inside the hash); a changed From is a changed message.
  if (m.from_addr !== m.mailbox) return 'the sender changed after approval (from differs from the mailbox); not sending';
  const attachments = files.map((f) => ({ filename: f.filename, content_type: f.content_type, sha256: attachmentSha256(f.content) }));
  const now = messageHash({ ...m, attachments }, m);
  return now === m.approved_hash ? null : 'the message changed after it was approved (its content no longer matches the approved hash); not sending';
}
