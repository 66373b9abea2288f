/**
 * forward_email (issue 11): an inbound email forwarded to new recipients with a note. It is an outbound send
 * like any other: sendEmail runs it through the same gate, policy, holds, approval and delivery, and the
 * draft a reviewer sees holds the forwarded content itself (the original's text, or the original attached),
 * so nothing reaches the recipient that the reviewer did not see.
 *
 * Inline: the note, then the original's visible text under a "Forwarded message" block, with its attachments
 * if asked. As an attachment: the note and the original as a message/rfc822 part, exactly as the server stores
 * it (a sandbox email: rebuilt from the message the sandbox delivered).
 */
import { invalid, MailgateError } from '../errors.js';
import { composeMessage } from '../mail/compose.js';
import { fetchRawMessage } from '../mail/imap/raw-message.js';
import type { InboundEmail } from '../store/store.js';
import { bodyView } from '../text/inbound.js';
import { forwardedText, forwardSubject } from '../text/forward.js';
import { cleanAttachmentName, cleanLine } from '../text/invisible.js';
import { getAttachment, MAX_ATTACHMENT_BYTES } from './attachments.js';
import type { AppContext, Principal } from './context.js';
import { imapSide } from './folders.js';
import { readEmail } from './inbox.js';
import { getMailboxOrThrow } from './scope.js';
import { type SendOutcome, sendEmail } from './send.js';

export interface ForwardInput {
  email_id: string;
  /** The sending mailbox; default the mailbox the email is in. */
  mailbox?: string | undefined;
  to: string[];
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
  note?: string | undefined;
  as: 'inline' | 'attachment';
  include_attachments: boolean;
  idempotency_key?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

type File = { filename: string; content_type: string; content: Buffer };

export async function forwardEmail(ctx: AppContext, who: Principal, input: ForwardInput): Promise<SendOutcome> {
  // The email is read through the scope checks: another mailbox's email is UNKNOWN_EMAIL, as in read_email.
  const email = await readEmail(ctx, who, input.email_id);
  const original = {
    from: cleanLine(email.from_addr),
    date: new Date(email.date).toUTCString(),
    subject: cleanLine(email.subject),
    to: email.to.map(cleanLine),
    cc: email.cc.map(cleanLine),
    // Only what a person reading it would see: text hidden in the HTML is not passed on to someone new.
    text: bodyView(email.text, email.html, { showHidden: false }).text,
  };
  const inline = input.as === 'inline';
  const files: File[] = inline ? (input.include_attachments ? await attachmentsOf(ctx, who, email) : []) : [await asMessageFile(ctx, who, email)];
  return sendEmail(ctx, who, {
    mailbox: input.mailbox ?? email.mailbox,
    to: input.to,
    cc: input.cc,
    bcc: input.bcc,
    subject: forwardSubject(original.subject),
    text: forwardedText(input.note, original, inline),
    attachments: files,
    idempotency_key: input.idempotency_key,
    metadata: input.metadata,
  });
}

async function attachmentsOf(ctx: AppContext, who: Principal, email: InboundEmail): Promise<File[]> {
  const out: File[] = [];
  for (let index = 0; index < email.attachments.length; index++) {
    const a = await getAttachment(ctx, who, { email_id: email.email_id, index, max_bytes: MAX_ATTACHMENT_BYTES, as: 'base64' });
    out.push({ filename: a.attachment.filename, content_type: a.attachment.content_type, content: a.attachment.content });
  }
  return out;
}

/** The original as one .eml attachment. */
async function asMessageFile(ctx: AppContext, who: Principal, email: InboundEmail): Promise<File> {
  const filename = `${cleanAttachmentName(email.subject || 'message').slice(0, 80) || 'message'}.eml`;
  const imap = imapSide(ctx, await getMailboxOrThrow(ctx, who, email.mailbox));
  if (imap) {
    if (email.uid === null) throw new MailgateError('UNKNOWN_EMAIL', `email ${email.email_id} is no longer on the server; check_inbox lists current ids`);
    const r = await fetchRawMessage(imap.conn, email.folder, email.uid, MAX_ATTACHMENT_BYTES);
    if (r.kind === 'too_large')
      throw invalid('as', `the original is ${r.size} bytes, over the ${MAX_ATTACHMENT_BYTES}-byte limit for one attachment; forward it inline`);
    if (r.kind === 'missing') throw new MailgateError('UNKNOWN_EMAIL', `email ${email.email_id} is no longer on the server; check_inbox lists current ids`);
    return { filename, content_type: 'message/rfc822', content: r.raw };
  }
  const sent = email.outbound_message_id ? await ctx.store.getMessage(email.outbound_message_id) : undefined;
  if (!sent) throw invalid('as', `email ${email.email_id} has no stored original to attach; forward it inline`);
  const files = await ctx.store.loadAttachments(sent.message_id);
  const { raw } = await composeMessage({ ...sent, files }, null, new Date(email.date));
  return { filename, content_type: 'message/rfc822', content: raw };
}
