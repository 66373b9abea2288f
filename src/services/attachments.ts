/**
 * get_attachment: one attachment of an inbound email, as read_email listed it (by index) or by IMAP body part.
 * A real mailbox fetches only that part from the server; a sandbox one reads the bytes the sender's outbound
 * message stored (the sandbox delivered that message, so its attachments are this email's). Bounded by a cap
 * the caller may lower but never raise past MAX_ATTACHMENT_BYTES.
 */
import { invalid, MailgateError } from '../errors.js';
import { fetchAttachment } from '../mail/imap/attachments.js';
import type { AttachmentContent } from '../mail/ports.js';
import type { InboundEmail } from '../store/store.js';
import { cleanAttachmentName } from '../text/invisible.js';
import type { AppContext, Principal } from './context.js';
import { imapSide } from './folders.js';
import { getEmailOrThrow, getMailboxOrThrow } from './scope.js';

const MiB = 1024 * 1024;
export const DEFAULT_ATTACHMENT_BYTES = 5 * MiB;
/** The most one call returns: base64 in a JSON-RPC message grows by a third, and clients hold it all in memory. */
export const MAX_ATTACHMENT_BYTES = 20 * MiB;

export interface AttachmentRequest {
  email_id: string;
  index?: number | undefined;
  part_id?: string | undefined;
  max_bytes: number;
  as: 'auto' | 'base64' | 'text';
}

export interface AttachmentResult {
  email: InboundEmail;
  index: number | null;
  attachment: AttachmentContent;
  /** The content as text (UTF-8), when asked for or when `auto` found a text type that decodes; else null. */
  text: string | null;
}

export async function getAttachment(ctx: AppContext, who: Principal, q: AttachmentRequest): Promise<AttachmentResult> {
  const email = await getEmailOrThrow(ctx, who, q.email_id);
  if ((q.index === undefined) === (q.part_id === undefined)) {
    throw invalid('index', 'give exactly one of index (0-based, in the order read_email lists attachments) or part_id');
  }
  if (q.max_bytes > MAX_ATTACHMENT_BYTES) throw invalid('max_bytes', `at most ${MAX_ATTACHMENT_BYTES} bytes (${MAX_ATTACHMENT_BYTES / MiB} MiB)`);
  const listed = email.has_body ? email.attachments : undefined;
  if (q.index !== undefined && listed && q.index >= listed.length) {
    throw invalid(
      'index',
      `email ${email.email_id} has ${listed.length ? `${listed.length} attachments (index 0 to ${listed.length - 1})` : 'no attachments'}`,
    );
  }
  const imap = imapSide(ctx, await getMailboxOrThrow(ctx, who, email.mailbox));
  const attachment = imap ? await fromServer(imap.conn, email, q, listed) : await fromStore(ctx, email, q);
  await ctx.store.recordRead(email, who.id, ctx.clock());
  return { email, index: q.index ?? null, attachment, text: asText(attachment, q.as) };
}

async function fromServer(
  conn: Parameters<typeof fetchAttachment>[0],
  email: InboundEmail,
  q: AttachmentRequest,
  listed: InboundEmail['attachments'] | undefined,
): Promise<AttachmentContent> {
  if (email.uid === null)
    throw new MailgateError('UNKNOWN_EMAIL', `email ${email.email_id} is no longer on the server; check_inbox lists current ids`, { field: 'email_id' });
  const expect = q.index !== undefined ? listed?.[q.index] : undefined;
  const r = await fetchAttachment(conn, email.folder, email.uid, { index: q.index, part_id: q.part_id, expect }, q.max_bytes);
  if (r.kind === 'too_large') throw tooLargeError(email, q, r);
  if (r.kind === 'missing') {
    if (q.part_id === undefined) throw invalid('index', `email ${email.email_id} has no attachment ${q.index} on the server; read_email lists them`);
    throw invalid(
      'part_id',
      `email ${email.email_id} has no body part '${q.part_id}'${r.parts.length ? `; its attachments are parts ${r.parts.join(', ')}` : ''}`,
    );
  }
  return r.attachment;
}

async function fromStore(ctx: AppContext, email: InboundEmail, q: AttachmentRequest): Promise<AttachmentContent> {
  if (q.part_id !== undefined) throw invalid('part_id', 'sandbox mail has no MIME body parts; use index (as read_email lists the attachments)');
  const files = email.outbound_message_id ? await ctx.store.loadAttachments(email.outbound_message_id) : [];
  const f = files[q.index!];
  if (!f)
    throw invalid(
      'index',
      `email ${email.email_id} has ${files.length ? `${files.length} attachments (index 0 to ${files.length - 1})` : 'no stored attachments'}`,
    );
  const meta = { size: f.content.length, filename: cleanAttachmentName(f.filename), content_type: f.content_type };
  if (meta.size > q.max_bytes) throw tooLargeError(email, q, meta);
  return { content: Buffer.from(f.content), content_type: f.content_type, filename: meta.filename, part_id: null };
}

/**
 * Past the cap: says the size, the cap and what to do. (INVALID_INPUT on max_bytes until the catalogue has a code
 * of its own for it.)
 */
function tooLargeError(
  email: InboundEmail,
  q: AttachmentRequest,
  a: { size: number; approximate?: boolean; filename: string; content_type: string },
): MailgateError {
  const which = q.part_id !== undefined ? `part ${q.part_id}` : `attachment ${q.index}`;
  const fix =
    q.max_bytes < MAX_ATTACHMENT_BYTES
      ? `pass a larger max_bytes (at most ${MAX_ATTACHMENT_BYTES})`
      : `that is over the server's maximum of ${MAX_ATTACHMENT_BYTES} bytes, so it cannot be fetched through this tool`;
  return new MailgateError(
    'INVALID_INPUT',
    `max_bytes: ${which} of ${email.email_id} ('${a.filename}', ${a.content_type}) is ${a.approximate ? 'about ' : ''}${a.size} bytes (${(a.size / MiB).toFixed(1)} MiB), over the cap of ${q.max_bytes} bytes; ${fix}`,
    { field: 'max_bytes', details: { size: a.size, cap: q.max_bytes } },
  );
}

/** Text types (and JSON, XML) come back as text when they are valid UTF-8; `text` insists, `base64` never does. */
function asText(a: AttachmentContent, as: AttachmentRequest['as']): string | null {
  if (as === 'base64') return null;
  const texty = /^text\/|^application\/(json|xml|[\w.+-]+\+(json|xml))$/.test(a.content_type.toLowerCase());
  if (as === 'auto' && !texty) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(a.content);
  } catch {
    if (as === 'auto') return null;
    throw invalid('as', `'${a.filename}' (${a.content_type}) is not UTF-8 text; ask for as: 'base64'`);
  }
}
