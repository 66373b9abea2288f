/**
 * One attachment of a real message, fetched alone: BODYSTRUCTURE names its body part and size, and only that
 * part is downloaded (imapflow `download`, transfer encoding undone), so a 20 MB message is not fetched for a
 * 40 KB PDF. Attachments are numbered as mailparser numbers them for read_email (every leaf part that is not
 * the text or HTML body, depth first); when BODYSTRUCTURE disagrees with the list read_email showed, the whole
 * message is fetched and parsed instead, so an index always means what the agent saw.
 */
import type { ImapFlow, MessageStructureObject } from 'imapflow';
import { cleanAttachmentName } from '../../text/invisible.js';
import { MAILPARSER_OPTIONS } from '../parse.js';
import type { AttachmentContent } from '../ports.js';
import type { ImapConnection } from './connection.js';

/** What the caller wants: a body part by id, or the index-th attachment as read_email listed it (`expect`). */
export interface AttachmentWant {
  part_id?: string | undefined;
  index?: number | undefined;
  expect?: { filename: string; content_type: string } | undefined;
}

export type AttachmentFetch =
  | { kind: 'ok'; attachment: AttachmentContent }
  /** `approximate`: the size was estimated from the encoded part, which was not downloaded. */
  | { kind: 'too_large'; size: number; approximate: boolean; filename: string; content_type: string }
  /** The message, the part id or the index is not there; `parts` lists the attachment part ids it has. */
  | { kind: 'missing'; parts: string[] };

interface PartRef {
  part: string;
  type: string;
  filename: string;
  /** The encoded size BODYSTRUCTURE reports. */
  size: number;
  encoding: string;
}

/** Whole messages parsed in the fallback are read up to this: the cap of one attachment plus its encoding. */
const fallbackLimit = (maxBytes: number) => Math.ceil(maxBytes * 1.4) + 1024 * 1024;

export async function fetchAttachment(conn: ImapConnection, folder: string, uid: number, want: AttachmentWant, maxBytes: number): Promise<AttachmentFetch> {
  return conn.withFolder(
    folder,
    async (c) => {
      const msg = await c.fetchOne(String(uid), { uid: true, bodyStructure: true }, { uid: true });
      if (msg === false || !msg?.bodyStructure) return { kind: 'missing', parts: [] };
      const parts = attachmentParts(msg.bodyStructure);
      let ref: PartRef | undefined;
      if (want.part_id !== undefined) {
        ref = leafParts(msg.bodyStructure).find((p) => p.part === want.part_id);
        if (!ref) return { kind: 'missing', parts: parts.map((p) => p.part) };
      } else {
        ref = parts[want.index ?? 0];
        if (!ref || (want.expect && !sameAttachment(ref, want.expect))) return parseWhole(c, uid, want.index ?? 0, maxBytes);
      }
      // Base64 carries 3 bytes in 4 characters, in lines of at most 76 plus CRLF (RFC 2045 §6.8): refused
      // before any download when even that estimate is clearly over the cap.
      const estimate = ref.encoding === 'base64' ? Math.floor((ref.size * 57) / 78) : ref.size;
      const tooLarge = { kind: 'too_large' as const, filename: cleanAttachmentName(ref.filename), content_type: ref.type };
      if (estimate > maxBytes * 1.01) return { ...tooLarge, size: estimate, approximate: true };
      const d = await c.download(String(uid), ref.part, { uid: true, maxBytes: maxBytes + 1 });
      if (!d.content) return { kind: 'missing', parts: parts.map((p) => p.part) };
      const content = await readAll(d.content);
      if (content.length > maxBytes) return { ...tooLarge, size: Math.max(estimate, content.length), approximate: true };
      return {
        kind: 'ok',
        attachment: { content, content_type: ref.type, filename: cleanAttachmentName(ref.filename || d.meta.filename), part_id: ref.part },
      };
    },
    { readOnly: true },
  );
}

/** The attachments as mailparser lists them: leaf parts other than the text and HTML bodies, depth first. */
function attachmentParts(root: MessageStructureObject): PartRef[] {
  return leafParts(root).filter((p) => !((p.type === 'text/plain' || p.type === 'text/html') && !isAttachmentDisposition(root, p.part)));
}

function leafParts(node: MessageStructureObject, out: PartRef[] = []): PartRef[] {
  const type = node.type.toLowerCase();
  // An attached message is one attachment (message/rfc822), not the parts inside it.
  if (node.childNodes?.length && type !== 'message/rfc822') {
    for (const child of node.childNodes) leafParts(child, out);
    return out;
  }
  out.push({
    part: node.part ?? '1',
    type,
    filename: node.dispositionParameters?.filename ?? node.parameters?.name ?? '',
    size: node.size ?? 0,
    encoding: (node.encoding ?? '').toLowerCase(),
  });
  return out;
}

function isAttachmentDisposition(root: MessageStructureObject, part: string): boolean {
  const find = (n: MessageStructureObject): MessageStructureObject | undefined =>
    (n.part ?? '1') === part && !n.childNodes?.length ? n : n.childNodes?.map(find).find(Boolean);
  return find(root)?.disposition?.toLowerCase() === 'attachment';
}

function sameAttachment(ref: PartRef, expect: { filename: string; content_type: string }): boolean {
  return cleanAttachmentName(ref.filename) === expect.filename && ref.type === expect.content_type.toLowerCase();
}

/** The fallback: the whole message, parsed as read_email parsed it, and its index-th attachment. */
async function parseWhole(c: ImapFlow, uid: number, index: number, maxBytes: number): Promise<AttachmentFetch> {
  const msg = await c.fetchOne(String(uid), { uid: true, source: { maxLength: fallbackLimit(maxBytes) } }, { uid: true });
  if (msg === false || !msg?.source) return { kind: 'missing', parts: [] };
  // mailparser loads on first use (as in parse.ts): tools/list at start-up must not pay for it.
  const { simpleParser } = await import('mailparser');
  const parsed = await simpleParser(msg.source, MAILPARSER_OPTIONS);
  const a = parsed.attachments[index];
  if (!a) return { kind: 'missing', parts: [] };
  const filename = cleanAttachmentName(a.filename);
  if (a.size > maxBytes) return { kind: 'too_large', size: a.size, approximate: false, filename, content_type: a.contentType };
  return { kind: 'ok', attachment: { content: a.content, content_type: a.contentType, filename, part_id: null } };
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}
