/** The quoted original under a reply (src/text/quote.ts): attribution, quote marks (RFC 3676 §4.5), hostile names. */
import { describe, expect, it } from 'vitest';
import { attribution, quoteLines, withQuote } from '../../src/text/quote.js';

const DATE = Date.UTC(2026, 11, 1, 10, 0, 0);
const original = { from_addr: 'alice@example.org', from_name: 'Alice Example', date: DATE, text: 'Hello Bob,\n\nCan we meet?\n' };

describe('attribution', () => {
  it('names the date, the sender and the address', () => {
    expect(attribution(original)).toBe('On Tue, 01 Dec 2026 10:00:00 GMT, Alice Example <alice@example.org> wrote:');
  });

  it('uses the address alone when there is no name, or the name is the address', () => {
    expect(attribution({ ...original, from_name: null })).toBe('On Tue, 01 Dec 2026 10:00:00 GMT, <alice@example.org> wrote:');
    expect(attribution({ ...original, from_name: 'alice@example.org' })).toBe('On Tue, 01 Dec 2026 10:00:00 GMT, <alice@example.org> wrote:');
  });

  it('keeps a hostile name on one line, without invisible or control characters', () => {
    const line = attribution({ ...original, from_name: 'Alice\r\nBcc: evil@x.test\u200B\u202E' });
    expect(line).not.toMatch(/[\r\n\u200B\u202E]/);
    expect(line).toBe('On Tue, 01 Dec 2026 10:00:00 GMT, Alice Bcc: evil@x.test <alice@example.org> wrote:');
  });
});

describe('quoteLines', () => {
  it('prefixes "> ", marks empty lines ">" alone and deepens quoted lines with ">" (RFC 3676 §4.5)', () => {
    expect(quoteLines('one\n\n> earlier\n>> older\ntwo')).toBe('> one\n>\n>> earlier\n>>> older\n> two');
  });

  it('drops trailing spaces, which a format=flowed reader takes for soft breaks, and normalises line ends', () => {
    expect(quoteLines('soft \r\nhard\t\rlast')).toBe('> soft\n> hard\n> last');
  });
});

describe('withQuote', () => {
  it('puts the reply first, a blank line, then the attribution and the quoted text', () => {
    expect(withQuote('Sure, 3pm.\n', original)).toBe(
      'Sure, 3pm.\n\nOn Tue, 01 Dec 2026 10:00:00 GMT, Alice Example <alice@example.org> wrote:\n> Hello Bob,\n>\n> Can we meet?\n',
    );
  });

  it('quotes an original with no text as the attribution alone', () => {
    expect(withQuote('Thanks', { ...original, text: '  \n' })).toBe('Thanks\n\nOn Tue, 01 Dec 2026 10:00:00 GMT, Alice Example <alice@example.org> wrote:\n');
  });
});
