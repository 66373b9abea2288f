/**
 * The policy rules one by one, each at its boundary: fires at the limit, stays quiet one step below it.
 * Expected values come from the settings' documented meaning (src/gate/policy/settings.ts), never from the
 * rule code. Secrets have their own file (policy-secrets.test.ts); how hits combine with the oversight mode
 * is in policy-evaluate.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  checkPolicy,
  type Draft,
  type DraftAttachment,
  EMPTY_FACTS,
  type PolicyFacts,
  type PolicyHit,
  PolicySettings,
  resolvePolicy,
  type WindowCount,
} from '../../src/gate/policy/index.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const OWN = 'agent@own.test';
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Settings as the config file gives them (parsed by the real schema), over the defaults. */
const policy = (s: Record<string, unknown> = {}) => resolvePolicy(undefined, PolicySettings.parse(s));
const draft = (d: Partial<Draft> = {}): Draft => ({
  mailbox: OWN,
  recipients: ['ann@partner.test'],
  subject: 'Hello',
  text: 'See you Monday.',
  html: null,
  attachments: [],
  threadParticipants: null,
  ...d,
});
const facts = (f: Partial<PolicyFacts> = {}): PolicyFacts => ({ ...EMPTY_FACTS(NOW), ...f });
const fired = (hits: PolicyHit[]) => hits.map((h) => `${h.rule}:${h.code}`);
const file = (filename: string, size: number): DraftAttachment => ({ filename, content_type: 'application/pdf', size });
const win = (count: number, oldest: number | null = count ? NOW - 1000 : null): WindowCount => ({ count, oldest });

describe('rate limits: per mailbox, the limit-th message in a window is refused', () => {
  const WINDOWS = [
    ['per_minute', 'minute', MINUTE],
    ['per_hour', 'hour', HOUR],
    ['per_day', 'day', DAY],
  ] as const;
  const counts = (key: 'minute' | 'hour' | 'day', w: WindowCount) => ({ minute: win(0), hour: win(0), day: win(0), [key]: w });

  it.each(WINDOWS)('%s = 5: 4 already counted passes, 5 is refused with retry_after = oldest + window', (setting, key, ms) => {
    const p = policy({ rate_limits: { [setting]: 5 } });
    expect(checkPolicy(p, draft(), facts({ mailboxCounts: counts(key, win(4)) }))).toEqual([]);
    const oldest = NOW - 17_000;
    const hits = checkPolicy(p, draft(), facts({ mailboxCounts: counts(key, win(5, oldest)) }));
    expect(fired(hits)).toEqual([`rate_limits.${setting}:rate_limited`]);
    expect(hits[0]!.effect).toBe('block');
    expect(hits[0]!.details).toMatchObject({ limit: 5, count: 5, retry_after: new Date(oldest + ms).toISOString() });
    expect(hits[0]!.reason).toContain(new Date(oldest + ms).toISOString());
  });

  it('a count over the limit (facts read late) is refused too; only the default per_minute = 60 applies when nothing is set', () => {
    expect(fired(checkPolicy(policy({ rate_limits: { per_hour: 2 } }), draft(), facts({ mailboxCounts: counts('hour', win(9)) })))).toEqual([
      'rate_limits.per_hour:rate_limited',
    ]);
    expect(fired(checkPolicy(policy(), draft(), facts({ mailboxCounts: { minute: win(10_000), hour: win(10_000), day: win(10_000) } })))).toEqual([
      'rate_limits.per_minute:rate_limited',
    ]);
    expect(checkPolicy(policy(), draft(), facts({ mailboxCounts: { minute: win(59), hour: win(10_000), day: win(10_000) } }))).toEqual([]);
  });

  it.each([
    ['per_recipient_per_hour', 'hour', HOUR],
    ['per_recipient_per_day', 'day', DAY],
  ] as const)('%s = 3 counts each recipient on its own and names the one at the limit', (setting, key, ms) => {
    const p = policy({ rate_limits: { [setting]: 3 } });
    const other = { hour: win(0), day: win(0) };
    const d = draft({ recipients: ['ann@partner.test', 'bob@partner.test'] });
    const below = new Map([
      ['ann@partner.test', { ...other, [key]: win(2) }],
      ['bob@partner.test', other],
    ]);
    expect(checkPolicy(p, d, facts({ recipientCounts: below }))).toEqual([]);
    const at = new Map([
      ['ann@partner.test', other],
      ['bob@partner.test', { ...other, [key]: win(3, NOW - 5) }],
    ]);
    const hits = checkPolicy(p, d, facts({ recipientCounts: at }));
    expect(fired(hits)).toEqual([`rate_limits.${setting}:rate_limited`]);
    expect(hits[0]!.reason).toContain('bob@partner.test');
    expect(hits[0]!.reason).not.toContain('ann@partner.test');
    expect(hits[0]!.details?.retry_after).toBe(new Date(NOW - 5 + ms).toISOString());
  });
});

describe('dedupe_window', () => {
  const dup = { message_id: 'msg_first000000000000', created_at: NOW - 30_000, status: 'pending' };

  it('an identical draft within the window is refused as duplicate, naming the first message', () => {
    const hits = checkPolicy(policy({ dedupe_window: '10m' }), draft(), facts({ duplicateOf: dup }));
    expect(fired(hits)).toEqual(['dedupe_window:duplicate']);
    expect(hits[0]!.details).toEqual({ duplicate_of: dup.message_id, window_seconds: 600 });
    expect(hits[0]!.reason).toContain(dup.message_id);
    expect(hits[0]!.reason).toMatch(/30s ago/);
  });

  it('window 0 turns it off even when the store reports a twin; no twin, no refusal', () => {
    expect(checkPolicy(policy({ dedupe_window: 0 }), draft(), facts({ duplicateOf: dup }))).toEqual([]);
    expect(checkPolicy(policy({ dedupe_window: '10m' }), draft(), facts())).toEqual([]);
  });
});

describe('max_recipients', () => {
  const people = (n: number) => Array.from({ length: n }, (_, i) => `p${i}@partner.test`);

  it.each([
    [3, 3, false],
    [3, 4, true],
    [50, 50, false],
    [50, 51, true],
  ])('limit %i, %i recipients: refused %s', (limit, n, refused) => {
    const p = limit === 50 ? policy() : policy({ max_recipients: limit }); // 50 is the default
    const hits = checkPolicy(p, draft({ recipients: people(n) }), facts());
    expect(fired(hits)).toEqual(refused ? ['max_recipients:too_many_recipients'] : []);
    if (refused) expect(hits[0]!.details).toEqual({ recipients: n, limit });
  });
});

describe('attachment limits', () => {
  const p = policy({ max_attachments: 2, max_attachment_bytes: 100, max_total_attachment_bytes: 250 });
  const rows: [string, DraftAttachment[], string[]][] = [
    ['2 files (the count limit)', [file('a.pdf', 10), file('b.pdf', 10)], []],
    ['3 files', [file('a.pdf', 10), file('b.pdf', 10), file('c.pdf', 10)], ['max_attachments:attachment_limit']],
    ['one file of exactly the per-file limit', [file('a.pdf', 100)], []],
    ['one file a byte over', [file('big.pdf', 101)], ['max_attachment_bytes:attachment_limit']],
    ['total exactly the limit', [file('a.pdf', 100), file('b.pdf', 100)], []],
    [
      'three files, a byte over the total',
      [file('a.pdf', 100), file('b.pdf', 100), file('c.pdf', 51)],
      ['max_attachments:attachment_limit', 'max_total_attachment_bytes:attachment_limit'],
    ],
    ['no attachments', [], []],
  ];

  it.each(rows)('%s', (_, attachments, expected) => {
    expect(fired(checkPolicy(p, draft({ attachments }), facts()))).toEqual(expected);
  });

  it('a total a byte over with few files is refused for the total alone, and the reason names the oversized file', () => {
    const total = policy({ max_attachment_bytes: 200, max_total_attachment_bytes: 250 });
    expect(fired(checkPolicy(total, draft({ attachments: [file('a.pdf', 125), file('b.pdf', 126)] }), facts()))).toEqual([
      'max_total_attachment_bytes:attachment_limit',
    ]);
    const [hit] = checkPolicy(p, draft({ attachments: [file('ok.pdf', 5), file('huge.pdf', 101)] }), facts());
    expect(hit!.reason).toContain('huge.pdf');
    expect(hit!.reason).not.toContain('ok.pdf');
  });

  // Regression (fixed): src/gate/policy/limits.ts line 3 formats every size as MB with two decimals, so a limit under about
  // 5 KB reads "0.00 MB": `big.bin (0.00 MB) is larger than 0.00 MB per file` tells the agent nothing it can act on.
  it('the reason tells the file size and the limit apart for small limits', () => {
    const [hit] = checkPolicy(p, draft({ attachments: [file('big.bin', 101)] }), facts());
    const m = /\((.*)\) is larger than (.*) per file/.exec(hit!.reason)!;
    expect(m[1]).not.toBe(m[2]);
  });

  it('max_attachments 0 refuses any attachment at all', () => {
    expect(fired(checkPolicy(policy({ max_attachments: 0 }), draft({ attachments: [file('a.pdf', 1)] }), facts()))).toEqual([
      'max_attachments:attachment_limit',
    ]);
  });
});

describe('blocked_domains and allowed_domains', () => {
  const blocked = (list: string[], to: string) => fired(checkPolicy(policy({ blocked_domains: list }), draft({ recipients: [to] }), facts()));
  const allowed = (list: string[], to: string) => fired(checkPolicy(policy({ allowed_domains: list }), draft({ recipients: [to] }), facts()));
  const B = ['blocked_domains:domain_blocked'];
  const A = ['allowed_domains:domain_not_allowed'];

  it.each([
    ['evil.com', 'x@evil.com', B],
    ['evil.com', 'x@mail.evil.com', B],
    ['evil.com', 'x@a.b.evil.com', B],
    ['evil.com', 'x@EVIL.COM', B],
    ['evil.com', 'x@evil.com.', B],
    ['evil.com.', 'x@evil.com', B],
    ['EVIL.com', 'x@evil.com', B],
    ['evil.com', 'x@notevil.com', []],
    ['evil.com', 'x@evil.com.au', []],
    ['evil.com', 'evil.com@good.org', []],
    ['*.bad.org', 'x@a.bad.org', B],
    ['*.bad.org', 'x@bad.org', []],
    ['*.bad.org', 'x@notbad.org', []],
    ['ev?l.com', 'x@evil.com', B],
  ] as const)('blocked %s, to %s', (entry, to, expected) => {
    expect(blocked([entry], to)).toEqual(expected);
  });

  it.each([
    ['partner.test', 'x@partner.test', []],
    ['partner.test', 'x@eu.partner.test', []],
    ['partner.test', 'x@other.test', A],
    ['partner.test', 'x@notpartner.test', A],
    ['*.corp.example', 'x@a.corp.example', []],
    ['*.corp.example', 'x@corp.example', A],
  ] as const)('allowed %s, to %s', (entry, to, expected) => {
    expect(allowed([entry], to)).toEqual(expected);
  });

  it('names only the recipients at fault, and an empty allow list refuses everyone', () => {
    const d = draft({ recipients: ['ok@partner.test', 'eve@evil.com', 'out@elsewhere.net'] });
    const hits = checkPolicy(policy({ blocked_domains: ['evil.com'], allowed_domains: ['partner.test', 'evil.com'] }), d, facts());
    expect(fired(hits)).toEqual([...B, ...A]);
    expect(hits[0]!.details).toEqual({ recipients: ['eve@evil.com'] });
    expect(hits[1]!.details).toMatchObject({ recipients: ['out@elsewhere.net'] });
    expect(hits[1]!.reason).toContain('out@elsewhere.net');
    expect(allowed([], 'x@partner.test')).toEqual(A);
  });

  // Regression (fixed): src/gate/policy/settings.ts resolvePolicy (lines 92-94) only lower-cases blocked/allowed/internal domain
  // entries; domains.ts domainListed (line 9) then compares them with the canonical (NFKC + punycode) recipient
  // domain from canonical.ts. So `blocked_domains: ["bücher.example"]` does not block x@xn--bcher-kva.example
  // (the form every recipient arrives in: tool input only accepts ASCII), and a full-width `ｅvil.com` entry
  // does not block x@evil.com. canonical.ts says both sides must be canonicalised the same way; the suppression
  // list is, the domain lists are not.
  it.each([
    ['bücher.example', 'x@xn--bcher-kva.example'],
    ['BÜCHER.example', 'x@mail.xn--bcher-kva.example'],
    ['ｅvil.com', 'x@evil.com'],
  ])('blocked %s blocks %s (IDN and compatibility forms of the entry)', (entry, to) => {
    expect(blocked([entry], to)).toEqual(B);
  });
});

describe('suppression (facts from the store; canonical matching is in canonical.test.ts)', () => {
  it('a recipient the store reports suppressed is refused, naming it and the entry; the others are not named', () => {
    const suppressed = new Map([['x+news@evil.com', { kind: 'domain' as const, value: 'evil.com', reason: 'complaint' }]]);
    const hits = checkPolicy(policy(), draft({ recipients: ['ann@partner.test', 'x+news@evil.com'] }), facts({ suppressed }));
    expect(fired(hits)).toEqual(['suppression:suppressed_recipient']);
    expect(hits[0]!.reason).toContain('x+news@evil.com');
    expect(hits[0]!.reason).not.toContain('ann@partner.test');
    expect(hits[0]!.details).toEqual({ recipients: [{ recipient: 'x+news@evil.com', kind: 'domain', value: 'evil.com', reason: 'complaint' }] });
  });
});

describe('content hold: new_recipient (replies only)', () => {
  const thread = ['ann@partner.test', OWN, 'bob@partner.test'];

  it.each([
    ['a new message to anyone', { recipients: ['eve@attacker.test'], threadParticipants: null }, []],
    ['a reply to the thread', { recipients: ['ann@partner.test', 'bob@partner.test'], threadParticipants: thread }, []],
    ['a reply to part of the thread', { recipients: ['ann@partner.test'], threadParticipants: thread }, []],
    [
      'a reply adding a cc',
      { recipients: ['ann@partner.test', 'eve@attacker.test'], threadParticipants: thread },
      ['content_holds.new_recipient:hold_new_recipient'],
    ],
    ['a reply to a stranger only', { recipients: ['eve@attacker.test'], threadParticipants: thread }, ['content_holds.new_recipient:hold_new_recipient']],
  ] as const)('%s', (_, d, expected) => {
    const hits = checkPolicy(policy(), draft(d), facts());
    expect(fired(hits)).toEqual(expected);
    if (expected.length) expect(hits[0]).toMatchObject({ effect: 'hold', details: { added: ['eve@attacker.test'] } });
  });

  it('can be turned off', () => {
    const d = draft({ recipients: ['eve@attacker.test'], threadParticipants: thread });
    expect(checkPolicy(policy({ content_holds: { new_recipient: false } }), d, facts())).toEqual([]);
  });
});

describe('content hold: new_external_domain (off by default)', () => {
  const on = policy({ content_holds: { new_external_domain: true }, internal_domains: ['corp.example'] });
  const H = ['content_holds.new_external_domain:hold_external_domain'];

  it.each([
    ['own domain', 'colleague@own.test', []],
    ['an internal domain', 'x@corp.example', []],
    ['a subdomain of an internal domain', 'x@eu.corp.example', []],
    ['a domain written to before', 'x@known.test', []],
    ['a new external domain', 'x@fresh.test', H],
    ['upper case new domain', 'x@FRESH.test', H],
    ['a look-alike of an internal domain', 'x@notcorp.example', H],
  ] as const)('%s', (_, to, expected) => {
    const hits = checkPolicy(on, draft({ recipients: [to] }), facts({ knownDomains: new Set(['known.test']) }));
    expect(fired(hits)).toEqual(expected);
  });

  it('lists each new domain once, and is silent unless turned on', () => {
    const d = draft({ recipients: ['a@fresh.test', 'b@fresh.test', 'c@other.test', 'd@own.test'] });
    expect(checkPolicy(on, d, facts())[0]!.details).toEqual({ domains: ['fresh.test', 'other.test'] });
    expect(checkPolicy(policy(), d, facts())).toEqual([]);
  });
});

describe('checkPolicy: every hit is kept, blocks first in rule order, then holds', () => {
  it('suppression, domains, recipients, attachments, duplicate and rate limit all reported; holds after them', () => {
    const p = policy({ blocked_domains: ['evil.com'], max_recipients: 2, max_attachments: 0, rate_limits: { per_minute: 1 } });
    const d = draft({
      recipients: ['eve@evil.com', 'sup@x.test', 'new@stranger.test'],
      threadParticipants: ['eve@evil.com'],
      attachments: [file('a.pdf', 1)],
      text: `key AKIA${'A'.repeat(16)}`,
    });
    const hits = checkPolicy(
      p,
      d,
      facts({
        suppressed: new Map([['sup@x.test', { kind: 'address', value: 'sup@x.test', reason: null }]]),
        duplicateOf: { message_id: 'msg_twin000000000000', created_at: NOW - 1, status: 'sent' },
        mailboxCounts: { minute: win(1), hour: win(0), day: win(0) },
      }),
    );
    expect(fired(hits)).toEqual([
      'suppression:suppressed_recipient',
      'blocked_domains:domain_blocked',
      'max_recipients:too_many_recipients',
      'max_attachments:attachment_limit',
      'dedupe_window:duplicate',
      'rate_limits.per_minute:rate_limited',
      'content_holds.new_recipient:hold_new_recipient',
      'content_holds.secrets:hold_secret',
    ]);
  });
});
