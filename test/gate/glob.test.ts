/** Glob matching for domain and subject rules: `*` and `?` are wild, everything else is literal, case-insensitive. */
import { describe, expect, it } from 'vitest';
import { globMatch } from '../../src/gate/glob.js';

describe('globMatch: wildcards, anchoring, case', () => {
  it.each([
    ['acme.com', 'acme.com', true],
    ['acme.com', 'ACME.COM', true],
    ['ACME.com', 'acme.COM', true],
    ['acme.com', 'xacme.com', false],
    ['acme.com', 'acme.comx', false],
    ['acme.com', 'sub.acme.com', false],
    ['*.acme.com', 'sub.acme.com', true],
    ['*.acme.com', 'a.b.acme.com', true],
    ['*.acme.com', 'acme.com', false],
    ['*.acme.com', '.acme.com', true],
    ['*', '', true],
    ['*', 'anything at all', true],
    ['**', 'x', true],
    ['a*', 'a', true],
    ['a*b', 'ab', true],
    ['a*b', 'axxxb', true],
    ['a*b', 'axxxbc', false],
    ['*b', 'cab', true],
    ['?', '', false],
    ['?', 'x', true],
    ['?', 'xy', false],
    ['??', 'xy', true],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['', '', true],
    ['', 'x', false],
    ['RE:*', 'Re: hello', true],
    ['RE:*', 'FW: RE: hello', false],
    ['*invoice*', 'Your Invoice #42', true],
  ] as const)('%j matches %j: %s', (pattern, value, want) => {
    expect(globMatch(pattern, value)).toBe(want);
  });
});

// For each regex metacharacter: the pattern matches itself literally, and does not match what the character would
// let through if it were interpreted as regex syntax.
const METACHARS: [string, string, string[]][] = [
  ['.', 'a.b', ['axb', 'ab']],
  ['+', 'a+b', ['aab', 'ab', 'aaab']],
  ['(', 'a(b', []],
  [')', 'a)b', []],
  ['()', 'a()b', ['ab']],
  ['[', 'a[b', []],
  [']', 'a]b', []],
  ['[x]', 'a[x]b', ['axb']],
  ['[^x]', '[^x]', ['y']],
  ['{', 'a{b', []],
  ['{2}', 'a{2}', ['aa']],
  ['^', 'a^b', []],
  ['$', 'a$b', []],
  ['|', 'a|b', ['a', 'b']],
  ['\\', 'a\\b', []],
  ['\\d', '\\d', ['1']],
  ['/', 'a/b', []],
  ['-', 'a-b', []],
  ['.*', 'a.*', ['ab', 'a']],
];

describe('globMatch: metacharacters are literal', () => {
  it.each(METACHARS)('%j: %j matches itself', (_c, pattern) => {
    expect(() => globMatch(pattern, 'x')).not.toThrow();
    expect(globMatch(pattern, pattern)).toBe(true);
  });

  it.each(METACHARS.filter(([, , wrong]) => wrong.length > 0))('%j: %j does not match the regex reading', (_c, pattern, wrong) => {
    for (const w of wrong) expect(globMatch(pattern, w)).toBe(false);
  });

  it.each(['.', '+', '(', '[', '$', '|', '\\'])('%j is matched only by itself, not by another character', (c) => {
    expect(globMatch(`x${c}y`, `x${c}y`)).toBe(true);
    expect(globMatch(`x${c}y`, 'xzy')).toBe(false);
    expect(globMatch(`x${c}y`, 'xy')).toBe(false);
  });

  it('a literal dot beside a wildcard stays literal', () => {
    expect(globMatch('*.acme.com', 'subxacme.com')).toBe(false);
    expect(globMatch('*.acme.com', 'sub.acmexcom')).toBe(false);
  });
});

describe('globMatch: robustness', () => {
  it('is case-insensitive on both sides and anchored at both ends', () => {
    expect(globMatch('A*b?C', 'axyzbqc')).toBe(true);
    expect(globMatch('a*b?c', 'AXYZBQC')).toBe(true);
    expect(globMatch('a*b?c', 'zAxyzBqC')).toBe(false);
    expect(globMatch('a*b?c', 'AxyzBqCz')).toBe(false);
  });

  it('gives the same answer when asked repeatedly (no state kept between calls)', () => {
    expect([globMatch('acme.com', 'acme.com'), globMatch('acme.com', 'acme.com'), globMatch('acme.com', 'acme.com')]).toEqual([true, true, true]);
  });

  it.each([
    ['*', 'line one\nline two', true],
    ['a?b', 'a\nb', true],
    ['?', '👋', true],
    ['grüße*', 'GRÜSSE', false],
    ['grüße*', 'GRÜßE 2024', true],
  ])('%j against %j: %s', (pattern, value, want) => {
    expect(globMatch(pattern, value)).toBe(want);
  });

  // The gate runs synchronously inside the store's transaction, so a slow match stalls the whole server. The
  // pattern is the operator's, but the subject (up to 998 characters) is the agent's. A linear-time glob
  // matcher answers this in well under a millisecond; a backtracking RegExp needs O(n^stars).
  it.each([
    ['*a*a*a*!', 'a'.repeat(200)],
    ['*a*a*a*a*a*a*!', 'a'.repeat(998)],
    ['*re:*re:*re:*re:*!', 're:'.repeat(332)],
  ])('matches in bounded time: %s against a subject crafted to defeat backtracking', (pattern, subject) => {
    const started = performance.now();
    expect(globMatch(pattern, subject)).toBe(false);
    expect(performance.now() - started).toBeLessThan(250);
  });
});
