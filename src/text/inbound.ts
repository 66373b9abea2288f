/**
 * What an agent is shown of an email: one conversion for read_email, snippets and previews alike, so hidden
 * text and invisible characters cannot reach the model through a side door. Conversions of HTML are kept for
 * a while (keyed by a hash of the HTML), since the same mail is listed and read again and again.
 */
import { createHash } from 'node:crypto';
import { cleanBody } from './invisible.js';
import { htmlToVisibleText } from './visible-html.js';

export interface BodyView {
  text: string;
  /** Runs of text hidden from a reader (CSS, `hidden`, same colour as the background) removed or marked. */
  hidden_count: number;
  /** Invisible, bidi-control and control characters removed. */
  invisible_count: number;
}

/**
 * The body as a person reading the email sees it: the HTML part when there is one (what a mail client shows;
 * a text part may say something else), else the text part.
 */
export function bodyView(text: string | null, html: string | null, opts: { showHidden?: boolean } = {}): BodyView {
  if (!html) {
    const clean = cleanBody(text ?? '');
    return { text: clean.text, hidden_count: 0, invisible_count: clean.removed };
  }
  const key = `${opts.showHidden === true}:${createHash('sha256').update(html).digest('base64')}`;
  const cached = recent.get(key);
  if (cached) {
    recent.delete(key);
    recent.set(key, cached);
    return cached;
  }
  const visible = htmlToVisibleText(html, opts);
  const clean = cleanBody(visible.text);
  const view = { text: clean.text, hidden_count: visible.hidden_count, invisible_count: visible.invisible_count + clean.removed };
  remember(key, view);
  return view;
}

/**
 * Recent conversions, least recently used first: check_inbox converts every listed mail for its snippet, and
 * read_email converts again for each part of a long body. Bounded by count and by characters held.
 */
const recent = new Map<string, BodyView>();
const RECENT_MAX = 256;
const RECENT_MAX_CHARS = 16_000_000;
let recentChars = 0;

function remember(key: string, view: BodyView): void {
  recent.set(key, view);
  recentChars += view.text.length;
  for (const [k, v] of recent) {
    if (recent.size <= RECENT_MAX && recentChars <= RECENT_MAX_CHARS) break;
    recent.delete(k);
    recentChars -= v.text.length;
  }
}

/** One line of the visible body, at most `max` characters. */
export function snippet(text: string | null, html: string | null, max: number, opts: { showHidden?: boolean } = {}): string {
  const line = bodyView(text, html, opts).text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}
