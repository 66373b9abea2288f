/**
 * Characters a person does not see but a model reads: zero-width and other default-ignorable code points
 * (U+200B-200F, U+2060-206F, U+FEFF, U+180E, Hangul fillers, variation selectors), bidi embeddings, overrides
 * and isolates (U+202A-202E, U+2066-2069, U+061C), tag characters (U+E0000-E007F), interlinear annotation
 * marks, and C0/C1 control characters. Inbound text is cleaned of them by removal, not visible escaping:
 * bidi controls only change how text is drawn, and an agent reads logical order, so nothing it needs is lost.
 * Pure functions, imported by src/mail and tools/ alike.
 */

/** Default-ignorables (a superset of the zero-width, bidi and tag ranges) plus the annotation marks. */
const IGNORABLE = /[\p{Default_Ignorable_Code_Point}\uFFF9-\uFFFB]/gu;
/** Control characters a body may not keep: all C0/C1 controls and DEL except tab, line feed, carriage return. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the control characters removed from a body
const BODY_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;
/** In a one-line field (subject, name) every control is dropped and line or paragraph breaks become spaces. */
const LINE_BREAKS = /[\t\n\r\u2028\u2029]+/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the control characters removed from a one-line field
const LINE_CONTROLS = /[\u0000-\u001F\u007F-\u009F]/g;

export interface Cleaned {
  text: string;
  /** How many characters were removed. */
  removed: number;
}

function remove(text: string, pattern: RegExp, counter: { n: number }): string {
  return text.replace(pattern, () => {
    counter.n++;
    return '';
  });
}

/** Removes invisible characters only (bodies and other multi-line text keep their controls). */
export function stripInvisible(text: string): Cleaned {
  const c = { n: 0 };
  const out = remove(text, IGNORABLE, c);
  return { text: out, removed: c.n };
}

/** A body: invisible characters and control characters other than tab and line breaks removed. */
export function cleanBody(text: string): Cleaned {
  const c = { n: 0 };
  const out = remove(remove(text, IGNORABLE, c), BODY_CONTROLS, c).replace(/[\u2028\u2029]/g, '\n');
  return { text: out, removed: c.n };
}

/** A one-line field (subject, display name, address): invisible and control characters gone, breaks as spaces. */
export function cleanLine(text: string): string {
  return text.replace(IGNORABLE, '').replace(LINE_BREAKS, ' ').replace(LINE_CONTROLS, '');
}

export const MAX_ATTACHMENT_NAME = 120;

/**
 * An inbound attachment name as every field shows it: no invisible, bidi or control characters (so
 * `invoice<U+202E>fdp.exe` reads as `invoicefdp.exe`), no path separators, no `..`, whitespace runs collapsed
 * (a run of spaces can push `.exe` out of sight), and at most MAX_ATTACHMENT_NAME characters with the
 * extension kept at the end.
 */
export function cleanAttachmentName(raw: string | null | undefined): string {
  const name = cleanLine(raw ?? '')
    .replace(/[\\/]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/\s+/g, ' ')
    .trim();
  if (/^[.\s]*$/.test(name)) return '(unnamed)';
  const chars = [...name];
  if (chars.length <= MAX_ATTACHMENT_NAME) return name;
  const ext = [...(/\.[\p{L}\p{N}]{1,16}$/u.exec(name)?.[0] ?? '')];
  return `${chars
    .slice(0, MAX_ATTACHMENT_NAME - ext.length - 1)
    .join('')
    .trimEnd()}…${ext.join('')}`;
}

/**
 * Why an outbound attachment name is refused, or null when it is a plain name. Control, invisible and bidi
 * characters can disguise a name (`invoice<U+202E>fdp.exe` displays as `invoiceexe.pdf`) and separators make
 * it a path on the recipient's side; nothing is silently rewritten in what an agent sends.
 */
export function filenameProblem(name: string): string | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a filename with a control character is refused
  if (/[\u0000-\u001F\u007F-\u009F]/.test(name)) return 'filename must not contain control characters (line breaks, tabs, NUL)';
  if (new RegExp(IGNORABLE.source, 'u').test(name)) {
    return 'filename must not contain invisible or bidirectional-control characters (such as U+200B or U+202E); remove them';
  }
  if (/[\\/]/.test(name)) return 'filename must be a plain name without slashes or backslashes';
  if (/^\.+$/.test(name)) return 'filename must be a file name, not . or ..';
  return null;
}
