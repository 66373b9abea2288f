/** The dashboard's small text helpers: how long until a held message expires, and controls made visible. */
import { describe, expect, it } from 'vitest';
import { bdi, expiry, reveal, until } from '../../src/dashboard/views/layout.js';

const now = Date.UTC(2026, 4, 4, 7, 20, 0);
const min = 60_000;

describe('until', () => {
  it.each([
    [130 * min, 'in 2 h 10 min'],
    [120 * min, 'in 2 h'],
    [45 * min, 'in 45 min'],
    [20_000, 'in under a minute'],
    [(3 * 24 * 60 + 4 * 60 + 7) * min, 'in 3 d 4 h'],
    [72 * 60 * min, 'in 3 d'],
    [-5 * min, '5 min ago'],
  ])('%d ms ahead reads "%s"', (delta, want) => expect(until(now + delta, now)).toBe(want));

  it('an expiry shows the UTC time, how long is left, and is marked when under an hour', () => {
    expect(expiry(now + 130 * min, now)).toBe(
      '<time class="expires" datetime="2026-05-04T09:30:00.000Z">2026-05-04 09:30:00Z</time> <span class="until">(in 2 h 10 min)</span>',
    );
    expect(expiry(now + 30 * min, now)).toContain('class="expires soon"');
    expect(expiry(now - 2 * min, now)).toContain('(expired 2 min ago)');
  });
});

describe('reveal and bdi', () => {
  it.each([
    ['invoice\u202Efdp.exe', 'invoice⟨U+202E⟩fdp.exe'],
    ['a\u200Bb', 'a⟨U+200B⟩b'],
    ['\u2067x\u2069', '⟨U+2067⟩x⟨U+2069⟩'],
    ['x\u{E0041}', 'x⟨U+E0041⟩'],
    ['\uFEFFbom', '⟨U+FEFF⟩bom'],
    ['שלום.pdf', 'שלום.pdf'],
    ['plain', 'plain'],
  ])('%j reads %j', (input, want) => expect(reveal(input)).toBe(want));

  it('bdi isolates and escapes', () => expect(bdi('<b>x\u202E</b>')).toBe('<bdi>&lt;b&gt;x⟨U+202E⟩&lt;/b&gt;</bdi>'));
});
