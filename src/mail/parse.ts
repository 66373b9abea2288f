/**
 * Turning a raw message into what an agent may read: plain text (HTML converted, with text a person could
 * not see removed), attachment metadata, and threading headers. Inbound mail is the main prompt-injection
 * path, so text hidden by CSS and invisible Unicode (zero-width, bidi controls, tag characters) is dropped
 * and counted rather than passed to the model.
 */
import { convert } from 'html-to-text';
import { simpleParser } from 'mailparser';
import type { ParsedBody } from '../store/store.js';

const HIDDEN_STYLES = [
  'display:none', 'display: none', 'visibility:hidden', 'visibility: hidden', 'font-size:0', 'font-size: 0',
  'opacity:0', 'opacity: 0', 'max-height:0', 'max-height: 0', 'mso-hide:all', 'mso-hide: all',
];

const SKIP = [
  { selector: '[hidden]', format: 'skip' },
  { selector: 'img', format: 'skip' },
  ...HIDDEN_STYLES.map((style) => ({ selector: `[style*="${style}"]`, format: 'skip' })),
];

// Zero-width and format characters, bidi overrides and isolates, soft hyphen, BOM, and Unicode tag characters.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]|\uDB40[\uDC00-\uDC7F]/g;

export function htmlToText(html: string): string {
  return convert(html, { wordwrap: false, selectors: SKIP, preserveNewlines: false });
}

export function stripInvisible(text: string): { text: string; removed: number } {
  let removed = 0;
  const out = text.replace(INVISIBLE, () => {
    removed++;
    return '';
  });
  return { text: out, removed };
}

export interface ParsedMessage extends ParsedBody {
  message_id_header: string | null;
  hidden_removed: number;
}

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const parsed = await simpleParser(raw, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const html = typeof parsed.html === 'string' ? parsed.html : null;
  // Prefer converting the HTML part (what a person sees) over a text part that may differ from it.
  const source = html ? htmlToText(html) : (parsed.text ?? '');
  const { text, removed } = stripInvisible(source.trim());
  const refs = parsed.references;
  return {
    text,
    html,
    message_id_header: parsed.messageId ?? null,
    in_reply_to_header: parsed.inReplyTo ?? null,
    references_header: Array.isArray(refs) ? refs.join(' ') : (refs ?? null),
    attachments: parsed.attachments.map((a) => ({
      filename: a.filename ?? '(unnamed)', content_type: a.contentType, size: a.size,
    })),
    hidden_removed: removed,
  };
}
