/**
 * Invisible and bidi characters (src/text/invisible.ts): removed from one-line fields and bodies, inbound
 * attachment names made safe to display, outbound names with disguising characters refused with a reason.
 */
import { describe, expect, it } from 'vitest';
import { cleanAttachmentName, cleanBody, cleanLine, filenameProblem, MAX_ATTACHMENT_NAME } from '../../src/text/invisible.js';

const INVISIBLE: [string, string][] = [
  ['zero-width space U+200B', '\u200B'],
  ['zero-width non-joiner U+200C', '\u200C'],
  ['zero-width joiner U+200D', '\u200D'],
  ['left-to-right mark U+200E', '\u200E'],
  ['right-to-left mark U+200F', '\u200F'],
  ['BOM U+FEFF', '\uFEFF'],
  ['LRE U+202A', '\u202A'],
  ['RLE U+202B', '\u202B'],
  ['PDF U+202C', '\u202C'],
  ['LRO U+202D', '\u202D'],
  ['RLO U+202E', '\u202E'],
  ['LRI U+2066', '\u2066'],
  ['RLI U+2067', '\u2067'],
  ['FSI U+2068', '\u2068'],
  ['PDI U+2069', '\u2069'],
  ['Arabic letter mark U+061C', '\u061C'],
  ['word joiner U+2060', '\u2060'],
  ['invisible times U+2062', '\u2062'],
  ['soft hyphen U+00AD', '\u00AD'],
  ['Mongolian vowel separator U+180E', '\u180E'],
  ['Hangul filler U+3164', '\u3164'],
  ['variation selector 16 U+FE0F', '\uFE0F'],
  ['tag A U+E0041', '\u{E0041}'],
  ['cancel tag U+E007F', '\u{E007F}'],
  ['variation selector 17 U+E0100', '\u{E0100}'],
  ['interlinear annotation U+FFF9', '\uFFF9'],
];

describe('invisible characters', () => {
  it.each(INVISIBLE)('%s is removed from subjects, names and bodies', (_, ch) => {
    expect(cleanLine(`pay${ch}ment due`)).toBe('payment due');
    expect(cleanBody(`pay${ch}ment\ndue`)).toEqual({ text: 'payment\ndue', removed: 1 });
  });

  it('a one-line field loses control characters and turns line breaks into spaces', () => {
    expect(cleanLine('Invoice\r\n\tBcc: x@evil.example\u0000\u001b[31m\u2028end')).toBe('Invoice Bcc: x@evil.example[31m end');
  });

  it('a body keeps tabs and line breaks, and loses other controls', () => {
    expect(cleanBody('a\tb\r\nc\u0007d\u001b\u0085e\u2029f')).toEqual({ text: 'a\tb\r\ncde\nf', removed: 3 });
  });

  it('visible text of every script is left alone', () => {
    const text = 'Grüße, Ελληνικά, русский, עברית, العربية, 日本語, 한국어, हिन्दी, emoji 👍';
    expect(cleanLine(text)).toBe(text);
    expect(cleanBody(text)).toEqual({ text, removed: 0 });
  });
});

describe('inbound attachment names', () => {
  it.each([
    ['a right-to-left override', 'invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['path separators and traversal', '../../etc/passwd', '._._etc_passwd'],
    ['a Windows path', 'C:\\Users\\a\\evil.bat', 'C:_Users_a_evil.bat'],
    ['NUL and line breaks', 'report\u0000.pdf\r\n.exe', 'report.pdf .exe'],
    ['a run of spaces before the real extension', `invoice.pdf${' '.repeat(80)}.exe`, 'invoice.pdf .exe'],
    ['zero-width characters', 're\u200Bport\u2066.pdf', 'report.pdf'],
    ['only dots', '..', '(unnamed)'],
    ['nothing', '', '(unnamed)'],
    ['an ordinary name', 'Quarterly report (final).pdf', 'Quarterly report (final).pdf'],
  ])('%s', (_, raw, shown) => {
    expect(cleanAttachmentName(raw)).toBe(shown);
  });

  it('a long name is cut, and keeps its extension visible', () => {
    const name = cleanAttachmentName(`${'a'.repeat(300)}.exe`);
    expect(name).toHaveLength(MAX_ATTACHMENT_NAME);
    expect(name.endsWith('….exe')).toBe(true);
  });

  it('no attachment name is undefined', () => expect(cleanAttachmentName(undefined)).toBe('(unnamed)'));
});

describe('outbound attachment names', () => {
  it.each([
    ['invoice\u202Efdp.exe', /bidirectional/],
    ['a\u200Bb.txt', /invisible/],
    ['a\u2066b.txt', /bidirectional/],
    ['a\u0000.txt', /control/],
    ['a\tb.txt', /control/],
    ['a\u0085b.txt', /control/],
    ['dir/a.txt', /slash/],
    ['dir\\a.txt', /slash/],
    ['..', /not \. or \.\./],
  ])('%j is refused', (name, why) => {
    expect(filenameProblem(name)).toMatch(why);
  });

  it.each(['report.pdf', 'Grüße aus Köln.txt', 'تقرير.pdf', 'a..b.txt', '.env'])('%j is a plain name', (name) => {
    expect(filenameProblem(name)).toBeNull();
  });
});
