/**
 * The quoted original under a reply's text, laid out the way mail clients do (Gmail, Thunderbird, Apple Mail):
 * an attribution line "On <date>, <name> <address> wrote:" and the original's lines each prefixed with ">".
 * Quote marks follow RFC 3676 §4.5: a line already quoted gets one more ">" with no space (">>"), any other
 * line "> ", an empty line ">" alone; trailing spaces are dropped, since a line ending in a space is a soft
 * break to a format=flowed reader. Pure.
 */
import { cleanLine } from './invisible.js';

export interface QuotedOriginal {
  from_addr: string;
  from_name: string | null;
  /** When the original was sent (ms). */
  date: number;
  /** The original's text as a reader sees it (hidden text already removed). */
  text: string;
}

/** "On Tue, 01 Dec 2026 10:00:00 GMT, Alice Example <alice@example.org> wrote:" */
export function attribution(o: QuotedOriginal): string {
  // The name and address are the sender's own text: one line, invisible and control characters removed.
  const name = cleanLine(o.from_name ?? '')
    .replace(/\s+/g, ' ')
    .trim();
  const addr = cleanLine(o.from_addr).trim();
  const who = name && name !== addr ? `${name} <${addr}>` : `<${addr}>`;
  const when = Number.isFinite(o.date) ? new Date(o.date).toUTCString() : 'an unknown date';
  return `On ${when}, ${who} wrote:`;
}

/** Each line of `text` with one more level of quoting. */
export function quoteLines(text: string): string {
  const lines = text.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  return lines
    .map((raw) => {
      const line = raw.replace(/[ \t]+$/, '');
      if (line === '') return '>';
      return line.startsWith('>') ? `>${line}` : `> ${line}`;
    })
    .join('\n');
}

/** The reply's text with the original quoted under it, a blank line between. */
export function withQuote(reply: string, o: QuotedOriginal): string {
  const own = reply.replace(/\s+$/, '');
  const quoted = o.text.trim() ? `${attribution(o)}\n${quoteLines(o.text)}` : attribution(o);
  return own ? `${own}\n\n${quoted}\n` : `${quoted}\n`;
}
