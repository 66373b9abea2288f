/**
 * How policy hits meet the oversight mode in evaluate(): blocks win over everything but read_only, content
 * holds hold in every sending mode and past any auto-approve rule, require_approval keeps its own code; and
 * how resolvePolicy layers defaults < global < mailbox, key by key.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/gate/evaluate.js';
import { EMPTY_FACTS, type EffectivePolicy, POLICY_DEFAULTS, type PolicyFacts, PolicySettings, resolvePolicy } from '../../src/gate/policy/index.js';
import type { AutoApproveRule } from '../../src/gate/rules/index.js';
import type { Action, Decision } from '../../src/gate/types.js';
import { OVERSIGHT_MODES, type OversightMode } from '../../src/values.js';

const ALL: AutoApproveRule[] = [{ type: 'all' }];
const THREAD = ['ann@partner.test', 'agent@own.test'];
const SECRET = `token ghp_${'x'.repeat(36)}`;

type Draft = Omit<Extract<Action, { kind: 'send' }>, 'kind'>;
const send = (d: Partial<Draft> = {}): Action => ({
  kind: 'send',
  mailbox: 'agent@own.test',
  recipients: ['ann@partner.test'],
  subject: 'Hello',
  isReply: false,
  text: 'Hi',
  ...d,
});
const PLAIN = send();
const ADDS_CC = send({ isReply: true, recipients: ['ann@partner.test', 'eve@attacker.test'], threadParticipants: THREAD });
const WITH_SECRET = send({ text: SECRET });
const SUPPRESSED: PolicyFacts = {
  ...EMPTY_FACTS(0),
  suppressed: new Map([['ann@partner.test', { kind: 'address', value: 'ann@partner.test', reason: null }]]),
};

function decide(
  mode: OversightMode,
  action: Action,
  o: { rules?: AutoApproveRule[]; requireApproval?: boolean; facts?: PolicyFacts; limits?: EffectivePolicy } = {},
): Decision {
  return evaluate({ mode, rules: o.rules ?? [], limits: o.limits ?? POLICY_DEFAULTS }, { requireApproval: o.requireApproval ?? false }, action, {
    knownContacts: new Set(),
    contactLists: new Map(),
    policy: o.facts ?? EMPTY_FACTS(0),
  });
}
const outcome = (d: Decision) => `${d.outcome}:${d.code}`;
const SENDING_MODES = OVERSIGHT_MODES.filter((m) => m !== 'read_only');

describe('content holds hold in every sending mode, past any auto-approve rule', () => {
  const rows = SENDING_MODES.flatMap(
    (mode) =>
      [
        [mode, 'a reply adding a cc', ADDS_CC, 'hold:hold_new_recipient'],
        [mode, 'a secret in the body', WITH_SECRET, 'hold:hold_secret'],
      ] as const,
  );

  it.each(rows)('%s, %s, with rule all: held', (mode, _, action, expected) => {
    const d = decide(mode, action, { rules: ALL });
    expect(outcome(d)).toBe(expected);
    expect(d.hits?.map((h) => h.effect)).toEqual(['hold']);
  });

  it.each([
    ['autonomous', 'execute:mode_allows'],
    ['monitored', 'execute:mode_allows'],
    ['gated_send', 'execute:auto_approved'],
  ] as const)('control: %s sends the same draft without the cc or the secret', (mode, expected) => {
    expect(outcome(decide(mode, PLAIN, { rules: ALL }))).toBe(expected);
    expect(outcome(decide(mode, send({ isReply: true, threadParticipants: THREAD }), { rules: ALL }))).toBe(expected);
  });

  it('two holds: the first names the code, the reason counts the other, both are kept', () => {
    const d = decide('autonomous', { ...ADDS_CC, text: SECRET } as Action);
    expect(outcome(d)).toBe('hold:hold_new_recipient');
    expect(d.reason).toMatch(/and 1 more policy hold\b/);
    expect(d.hits?.map((h) => h.code)).toEqual(['hold_new_recipient', 'hold_secret']);
  });
});

describe('blocks', () => {
  it.each(SENDING_MODES)('%s: a block wins over a content hold and names the first block', (mode) => {
    const limits = resolvePolicy({ max_recipients: 1 }, undefined);
    const d = decide(mode, { ...ADDS_CC, text: SECRET } as Action, { rules: ALL, facts: SUPPRESSED, limits });
    expect(outcome(d)).toBe('block:suppressed_recipient');
    expect(d.hits?.map((h) => h.code)).toEqual(['suppressed_recipient', 'too_many_recipients', 'hold_new_recipient', 'hold_secret']);
  });

  it('a block wins over require_approval too', () => {
    expect(outcome(decide('gated_send', PLAIN, { requireApproval: true, facts: SUPPRESSED }))).toBe('block:suppressed_recipient');
  });

  it('read_only still refuses with action_blocked, before any policy rule is consulted', () => {
    for (const action of [PLAIN, WITH_SECRET, ADDS_CC]) {
      const d = decide('read_only', action, { facts: SUPPRESSED });
      expect(outcome(d)).toBe('block:action_blocked');
      expect(d.reason).toMatch(/read_only/);
      expect(d.hits).toBeUndefined();
    }
  });

  it('writes (tag, move) are not policy-checked: gated_all holds them for its own reason', () => {
    expect(outcome(decide('gated_all', { kind: 'write', operation: 'tag' }, { facts: SUPPRESSED }))).toBe('hold:mode_requires_approval');
    expect(outcome(decide('autonomous', { kind: 'write', operation: 'move' }, { facts: SUPPRESSED }))).toBe('execute:mode_allows');
  });
});

describe('require_approval', () => {
  it.each(SENDING_MODES)('%s: keeps its code and reason, with the policy hits attached', (mode) => {
    const d = decide(mode, WITH_SECRET, { requireApproval: true, rules: ALL });
    expect(outcome(d)).toBe('hold:require_approval');
    expect(d.reason).toMatch(/require_approval/);
    expect(d.hits?.map((h) => h.code)).toEqual(['hold_secret']);
  });

  it('without hits it has none', () => {
    expect(decide('autonomous', PLAIN, { requireApproval: true }).hits).toBeUndefined();
  });
});

describe('resolvePolicy: defaults < global < mailbox, key by key', () => {
  const parse = (s: Record<string, unknown>) => PolicySettings.parse(s);

  it('nothing set: the documented defaults', () => {
    expect(resolvePolicy(undefined, undefined)).toEqual({
      dedupeWindowSeconds: 600,
      rateLimits: { per_minute: 60 },
      allowedDomains: null,
      blockedDomains: [],
      internalDomains: [],
      maxRecipients: 50,
      maxAttachments: 10,
      maxAttachmentBytes: 10 * 1024 * 1024,
      maxTotalAttachmentBytes: 25 * 1024 * 1024,
      maxPending: 1000,
      holds: { newRecipient: true, newExternalDomain: false, secrets: true },
      fourEyes: false,
      article22Scope: false,
      allowPermanentDelete: false,
    });
  });

  const global = parse({
    dedupe_window: '15m',
    rate_limits: { per_minute: 5, per_hour: 100 },
    blocked_domains: ['Evil.com'],
    max_recipients: 20,
    content_holds: { secrets: false, new_external_domain: true },
    four_eyes: true,
    internal_domains: ['corp.example'],
  });
  const mailbox = parse({
    dedupe_window: 0,
    rate_limits: { per_minute: 2, per_recipient_per_day: 3 },
    blocked_domains: ['other.com'],
    max_attachments: 1,
    content_holds: { new_recipient: false },
  });
  const rows: [string, (p: EffectivePolicy) => unknown, unknown, unknown][] = [
    // [key, read it, global only, global + mailbox]
    ['dedupe_window (a duration; 0 turns it off)', (p) => p.dedupeWindowSeconds, 900, 0],
    ['rate_limits merge per limit', (p) => p.rateLimits, { per_minute: 5, per_hour: 100 }, { per_minute: 2, per_hour: 100, per_recipient_per_day: 3 }],
    [
      'blocked_domains: the mailbox list adds to the global one (it cannot undo a global block)',
      (p) => p.blockedDomains,
      ['evil.com'],
      ['evil.com', 'other.com'],
    ],
    ['max_recipients: global over the default, kept when the mailbox is silent', (p) => p.maxRecipients, 20, 20],
    ['max_attachments: the default until the mailbox sets it', (p) => p.maxAttachments, 10, 1],
    [
      'content_holds merge per hold',
      (p) => p.holds,
      { newRecipient: true, newExternalDomain: true, secrets: false },
      { newRecipient: false, newExternalDomain: true, secrets: false },
    ],
    ['four_eyes', (p) => p.fourEyes, true, true],
    ['internal_domains', (p) => p.internalDomains, ['corp.example'], ['corp.example']],
    ['allowed_domains unset stays null', (p) => p.allowedDomains, null, null],
  ];

  it.each(rows)('%s', (_, read, globalOnly, both) => {
    expect(read(resolvePolicy(global, undefined))).toEqual(globalOnly);
    expect(read(resolvePolicy(global, mailbox))).toEqual(both);
    expect(read(resolvePolicy(undefined, global))).toEqual(globalOnly); // a mailbox alone acts like the global layer
  });

  it('never changes the shared defaults', () => {
    const before = structuredClone(POLICY_DEFAULTS);
    resolvePolicy(global, mailbox).holds.secrets = true;
    resolvePolicy(undefined, undefined).rateLimits.per_minute = 1;
    expect(POLICY_DEFAULTS).toEqual(before);
  });

  it('the schema refuses unknown keys and out-of-range limits, naming the key', () => {
    for (const bad of [
      { rate_limit: {} },
      { rate_limits: { per_second: 1 } },
      { max_recipients: 0 },
      { rate_limits: { per_minute: 1.5 } },
      { dedupe_window: '10 minutes' },
      { max_attachment_bytes: -1 },
      { content_holds: { secret: true } },
    ]) {
      expect(PolicySettings.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    const r = PolicySettings.safeParse({ max_recipients: 'ten' });
    expect(r.success || r.error.issues[0]!.message).toMatch(/max_recipients/);
  });
});
