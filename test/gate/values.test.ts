/** Shared value types (src/values.ts): addresses, header text, durations, ids. */
import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import {
  addressList,
  Duration,
  EmailAddress,
  EmailId,
  formatDuration,
  headerText,
  MessageId,
  MessageStatus,
  OversightMode,
  parseDurationSeconds,
} from '../../src/values.js';

/** Every message in a failed parse, nested union issues included. */
function failure(schema: z.ZodType, input: unknown): string {
  const r = schema.safeParse(input);
  if (r.success) throw new Error(`expected ${JSON.stringify(input)} to be refused, got ${JSON.stringify(r.data)}`);
  return JSON.stringify(r.error.issues);
}

const local64 = 'l'.repeat(64);
const label63 = 'd'.repeat(63);
/** 64 + 1 + 189 = 254 characters, the longest address allowed. */
const longest = `${local64}@${label63}.${label63}.${'e'.repeat(57)}.com`;

describe('EmailAddress', () => {
  it.each([
    ['Bob@Example.COM', 'bob@example.com'],
    ['  alice@example.com  ', 'alice@example.com'],
    ['First.Last+Tag@Sub.Example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['a@b.c', 'a@b.c'],
    ['x@a-b.example', 'x@a-b.example'],
    ['root@localhost', 'root@localhost'],
    [`${local64}@example.com`, `${local64}@example.com`],
    [longest, longest],
    // A trailing line break is trimmed away, leaving nothing to inject.
    ['a@b.com\r\n', 'a@b.com'],
  ])('accepts %j as %j', (input, output) => {
    expect(EmailAddress.parse(input)).toBe(output);
    expect(longest).toHaveLength(254);
  });

  it.each([
    ['', 'address is empty'],
    ['   ', 'address is empty'],
    ['a@b.com\r\nBcc: x@y.com', 'line break'],
    ['a@b.com\nBcc: x@y.com', 'line break'],
    ['a@b.com\rBcc: x@y.com', 'line break'],
    ['a@b.com\r\n\r\nbody', 'line break'],
    ['bob.example.com', 'not a valid email address'],
    ['bob@', 'not a valid email address'],
    ['@example.com', 'not a valid email address'],
    ['bob@@example.com', 'not a valid email address'],
    ['a@b@example.com', 'not a valid email address'],
    ['a..b@example.com', 'not a valid email address'],
    ['a@example..com', 'not a valid email address'],
    [`${'l'.repeat(65)}@example.com`, 'not a valid email address'],
    [`${local64}@${label63}.${label63}.${'e'.repeat(58)}.com`, 'not a valid email address'],
    [`a@${'d'.repeat(64)}.com`, 'not a valid email address'],
    ['a@-example.com', 'not a valid email address'],
    ['a@example-.com', 'not a valid email address'],
    ['a@example.com.', 'not a valid email address'],
    ['Bob <bob@example.com>', 'not a valid email address'],
    ['bob @example.com', 'not a valid email address'],
    ['"quoted"@example.com', 'not a valid email address'],
    ['a@[127.0.0.1]', 'not a valid email address'],
    ['bøb@example.com', 'not a valid email address'],
    ['a@b.com,c@d.com', 'not a valid email address'],
    [42, 'expected an email address'],
    [null, 'expected an email address'],
  ])('rejects %j (%s)', (input, message) => {
    expect(failure(EmailAddress, input)).toContain(message);
  });

  // RFC 5322 §3.4.1 dot-atom: a local part may not begin or end with a dot (only a..b was caught).
  it.each(['.bob@example.com', 'bob.@example.com'])('rejects %j: dot at the edge of the local part', (input) => {
    expect(EmailAddress.safeParse(input).success).toBe(false);
  });
});

describe('addressList', () => {
  const to = addressList('to');

  it.each([
    ['Bob@X.com', ['bob@x.com']],
    [
      ['a@x.com', 'B@Y.com'],
      ['a@x.com', 'b@y.com'],
    ],
    [['Bob@x.com', 'bob@X.COM', ' bob@x.com '], ['bob@x.com']],
    [
      ['b@x.com', 'a@x.com', 'b@x.com'],
      ['b@x.com', 'a@x.com'],
    ],
    [Array.from({ length: 50 }, (_, i) => `u${i}@x.com`), Array.from({ length: 50 }, (_, i) => `u${i}@x.com`)],
  ] as [string | string[], string[]][])('accepts %j as %j', (input, output) => {
    expect(to.parse(input)).toEqual(output);
  });

  it.each([
    [['ok@x.com', 'bad'], 'not a valid email address'],
    ['a@b.com\r\nBcc: c@d.com', 'line break'],
    [['a@b.com', 'c@d.com\nBcc: e@f.com'], 'line break'],
    [Array.from({ length: 51 }, (_, i) => `u${i}@x.com`), 'to has more than 50 addresses'],
    ['', 'address is empty'],
    [[], 'to is an empty list'],
    [42, 'to must be an address or a list of addresses'],
    [[42], 'to must be an address or a list of addresses'],
  ] as [unknown, string][])('rejects %j', (input, message) => {
    expect(failure(to, input)).toContain(message);
  });

  it('takes its limit and field name from the caller', () => {
    const cc = addressList('cc', 2);
    expect(cc.parse(['a@x.com', 'b@x.com'])).toEqual(['a@x.com', 'b@x.com']);
    expect(failure(cc, ['a@x.com', 'b@x.com', 'c@x.com'])).toContain('cc has more than 2 addresses');
  });

  it('names the position of a bad entry in a list', () => {
    const r = to.safeParse(['ok@x.com', 'bad', 'also bad']);
    expect(r.success).toBe(false);
    expect(!r.success && r.error.issues.map((i) => i.path)).toEqual([[1], [2]]);
  });
});

describe('headerText', () => {
  const subject = headerText('subject');

  it.each(['Hello', '', 'Grüße 👋', 'RE: [ticket #42] (urgent)', 'x'.repeat(998), 'Ünïcödé ‹quotes› and\u00a0nbsp'])('accepts %j unchanged', (input) => {
    expect(subject.parse(input)).toBe(input);
  });

  it.each([
    ['Hello\r\nBcc: x@y.com', 'subject contains a line break'],
    ['Hello\nBcc: x@y.com', 'subject contains a line break'],
    ['Hello\rBcc: x@y.com', 'subject contains a line break'],
    ['Hello\n', 'subject contains a line break'],
    ['\r\n', 'subject contains a line break'],
    ['x'.repeat(999), 'subject is longer than 998 characters'],
    // Every other control character too: C0 (NUL, TAB, ESC, ...), DEL, C1, and the Unicode line separators.
    ['Hello\u0000world', 'subject contains a control character (U+0000)'],
    ['tab\tinside', 'subject contains a control character (U+0009)'],
    ['\u001b[31mred', 'subject contains a control character (U+001B)'],
    ['del\u007f', 'subject contains a control character (U+007F)'],
    ['next\u0085line', 'subject contains a control character (U+0085)'],
    ['c1\u009f', 'subject contains a control character (U+009F)'],
    ['line\u2028separator', 'subject contains a control character (U+2028)'],
    ['para\u2029separator', 'subject contains a control character (U+2029)'],
    [7, ''],
  ] as [unknown, string][])('rejects %j', (input, message) => {
    expect(failure(subject, input)).toContain(message);
  });

  it('takes its limit and field name from the caller', () => {
    const name = headerText('display_name', 10);
    expect(name.parse('0123456789')).toBe('0123456789');
    expect(failure(name, '0123456789X')).toContain('display_name is longer than 10 characters');
    expect(failure(name, 'a\nb')).toContain('display_name contains a line break');
  });
});

describe('Duration', () => {
  it.each([
    ['90s', 90],
    ['15m', 900],
    ['72h', 259_200],
    ['30d', 2_592_000],
    ['1s', 1],
    [' 15m ', 900],
    ['15 m', 900],
    ['15M', 900],
    ['2H', 7200],
    ['365d', 31_536_000],
    [90, 90],
    [1, 1],
    [31_536_000, 31_536_000],
  ] as [string | number, number][])('parses %j as %d seconds', (input, seconds) => {
    expect(Duration.parse(input)).toBe(seconds);
  });

  it.each([
    ['0s', 'between 1 second and 365 days'],
    ['0d', 'between 1 second and 365 days'],
    ['366d', 'between 1 second and 365 days'],
    [31_536_001, 'between 1 second and 365 days'],
    ['5w', 'expected a duration such as'],
    ['abc', 'expected a duration such as'],
    ['', 'expected a duration such as'],
    ['90', 'expected a duration such as'],
    ['1.5h', 'expected a duration such as'],
    ['-5m', 'expected a duration such as'],
    ['1h30m', 'expected a duration such as'],
    ['15 minutes', 'expected a duration such as'],
    [0, ''],
    [-5, ''],
    [1.5, ''],
    [null, ''],
  ] as [unknown, string][])('rejects %j', (input, message) => {
    expect(failure(Duration, input)).toContain(message);
  });

  it.each([
    ['90s', 90],
    ['15m', 900],
    ['72h', 259_200],
    ['30d', 2_592_000],
    [' 2 D ', 172_800],
    [45, 45],
  ] as [string | number, number][])('parseDurationSeconds(%j) = %d', (input, seconds) => expect(parseDurationSeconds(input)).toBe(seconds));

  it.each(['abc', '5w', ''])('parseDurationSeconds(%j) is NaN', (input) => {
    expect(parseDurationSeconds(input)).toBeNaN();
  });
});

describe('formatDuration', () => {
  it.each([
    [1, '1s'],
    [59, '59s'],
    [60, '1m'],
    [90, '90s'],
    [900, '15m'],
    [5400, '90m'],
    [3600, '1h'],
    [3601, '3601s'],
    [86_400, '24h'],
    [172_800, '48h'],
    [259_200, '72h'],
    [518_400, '144h'],
    [604_800, '7d'],
    [608_400, '169h'],
    [2_592_000, '30d'],
    [31_536_000, '365d'],
  ])('formatDuration(%d) = %j', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it.each([1, 59, 60, 90, 900, 3599, 3600, 3601, 5400, 86_399, 86_400, 90_000, 172_800, 259_200, 2_592_000, 31_536_000])(
    'round-trips %d seconds through text',
    (seconds) => {
      expect(Duration.parse(formatDuration(seconds))).toBe(seconds);
    },
  );

  // values.ts documents `259200` -> `72h`; the default pending TTL is 72h and '72h' is the example in every message.
  it.each(['90s', '15m', '72h', '30d'])('gives back the documented example %j unchanged', (text) => {
    expect(formatDuration(Duration.parse(text))).toBe(text);
  });
});

describe('MessageId and EmailId', () => {
  const ids: [z.ZodType, string, string][] = [
    [MessageId, 'msg_', 'em_'],
    [EmailId, 'em_', 'msg_'],
  ];

  it.each(ids)('%#: accepts well-formed ids', (schema, prefix) => {
    for (const id of [`${prefix}abc123`, `${prefix}A-b_C1`, `${prefix}${'x'.repeat(64)}`]) expect(schema.parse(id)).toBe(id);
    expect(schema.parse(`  ${prefix}abcdef  `)).toBe(`${prefix}abcdef`);
  });

  it.each(ids)('%#: rejects malformed ids', (schema, prefix, other) => {
    for (const id of [
      '',
      prefix,
      `${prefix}abc12`,
      `${prefix}${'x'.repeat(65)}`,
      `${other}abcdef`,
      `${prefix.toUpperCase()}abcdef`,
      `${prefix}abc def`,
      `${prefix}abc/def`,
      `${prefix}abcdef;drop`,
      `${prefix}abcdef\nx`,
      `x${prefix}abcdef`,
      `${prefix}ab.cdef`,
    ]) {
      expect(schema.safeParse(id).success, id).toBe(false);
    }
  });

  it('explains what an id looks like', () => {
    expect(failure(MessageId, 'em_abcdef')).toContain("'msg_…'");
    expect(failure(EmailId, 'msg_abcdef')).toContain("'em_…'");
  });
});

describe('status vocabularies', () => {
  it('oversight modes', () => {
    expect(OversightMode.options).toEqual(['read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous']);
    expect(OversightMode.safeParse('smart').success).toBe(false);
  });

  it('message statuses', () => {
    expect([...MessageStatus.options].sort()).toEqual([
      'approved',
      'blocked',
      'cancelled',
      'expired',
      'failed',
      'outcome_unknown',
      'pending',
      'queued',
      'rejected',
      'sending',
      'sent',
    ]);
  });
});
