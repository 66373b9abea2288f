/**
 * Turning a raw message into what an agent may read: plain text (HTML converted, with text a person could
 * not see removed), attachment metadata, and threading headers. Inbound mail is the main prompt-injection
 * path, so text hidden by CSS and invisible Unicode (zero-width, bidi controls, tag characters) is dropped
 * (src/text/) rather than passed to the model, and attachment names are made safe to display.
 */
import type { ParsedBody } from '../store/store.js';
import { bodyView } from '../text/inbound.js';
import { cleanAttachmentName } from '../text/invisible.js';
import { htmlToVisibleText } from '../text/visible-html.js';

/**
 * HTML as text for a person reviewing it (approval pages, the confirmation form): hidden text is kept and
 * marked `[hidden: ...]`, so a draft cannot carry content past its reviewer by hiding it from view.
 */
export function htmlToText(html: string): string {
  return htmlToVisibleText(html, { showHidden: true }).text;
}

export interface ParsedMessage extends ParsedBody {
  message_id_header: string | null;
  hidden_removed: number;
}

/** mailparser is slow to load (0.1-0.4 s measured here): the first message parsed loads it, not the server's start-up. */
let mailparser: Promise<typeof import('mailparser')> | undefined;

/**
 * Starts loading mailparser without waiting for it: called when a folder sync starts, so the load overlaps the
 * sync's round trips instead of adding to the first listing (whose snippets need parsed bodies).
 */
export function preloadParser(): void {
  mailparser ??= import('mailparser');
  mailparser.catch(() => undefined); // a failed load is reported by the parse that needs it, not as unhandled here
}

/**
 * mailparser's options everywhere it runs: it does not turn text into HTML or link it, nor HTML into text, since
 * an HTML body is read with mailgate's own visible-text pass (bodyView), which drops what a person would not see.
 * The bundle leaves the libraries for those out (rolldown.config.mjs), so they must stay off.
 */
export const MAILPARSER_OPTIONS = { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true, skipHtmlToText: true } as const;

export async function parseMessage(raw: Buffer): Promise<ParsedMessage> {
  const { simpleParser } = await (mailparser ??= import('mailparser'));
  const parsed = await simpleParser(raw, MAILPARSER_OPTIONS);
  const html = typeof parsed.html === 'string' ? parsed.html : null;
  // The HTML part when there is one (what a person sees) over a text part that may say something else.
  const body = bodyView(parsed.text?.trim() ?? null, html);
  const refs = parsed.references;
  return {
    text: body.text,
    html,
    message_id_header: parsed.messageId ?? null,
    in_reply_to_header: parsed.inReplyTo ?? null,
    references_header: Array.isArray(refs) ? refs.join(' ') : (refs ?? null),
    attachments: parsed.attachments.map((a) => ({
      filename: cleanAttachmentName(a.filename),
      content_type: a.contentType,
      size: a.size,
    })),
    hidden_removed: body.hidden_count + body.invisible_count,
  };
}
