/**
 * The gate's decision table: every oversight mode x action kind x require_approval x rule set.
 * Expected decisions come from SPEC below (the behaviour table in the design), never from the code under test.
 */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/gate/evaluate.js';
import type { AutoApproveRule } from '../../src/gate/rules/index.js';
import type { Action, Decision, Facts } from '../../src/gate/types.js';
import { OVERSIGHT_MODES, type OversightMode } from '../../src/values.js';

type Column = 'read' | 'send' | 'write';
type Cell = 'execute' | 'execute_notify' | 'block' | 'hold' | 'hold_unless_rule';

/** The spec: what each mode does with reads, sends (replies included) and other writes. */
const SPEC: Record<OversightMode, Record<Column, Cell>> = {
  read_only: { read: 'execute', send: 'block', write: 'block' },
  gated_all: { read: 'execute', send: 'hold_unless_rule', write: 'hold' },
  gated_send: { read: 'execute', send: 'hold_unless_rule', write: 'execute' },
  monitored: { read: 'execute', send: 'execute_notify', write: 'execute' },
  autonomous: { read: 'execute', send: 'execute', write: 'execute' },
};

const KINDS = ['read', 'send', 'reply', 'tag', 'move', 'delete', 'contacts'] as const;
type Kind = (typeof KINDS)[number];
const columnOf = (k: Kind): Column => (k === 'read' ? 'read' : k === 'send' || k === 'reply' ? 'send' : 'write');

const FACTS: Facts = {
  knownContacts: new Set(['kim@known.org', 'lee@known.org']),
  contactLists: new Map([['vip', new Set(['vic@vip.net', 'val@vip.net'])]]),
};

interface RuleSet {
  name: string;
  rules: AutoApproveRule[];
  recipients: string[];
  subject: string;
  /** The label of the first rule that matches, for a plain send and for a reply (same recipients and subject). */
  winner: { send: string | null; reply: string | null };
}
const both = (label: string | null) => ({ send: label, reply: label });
const STRANGER = ['new@stranger.io'];

const RULE_SETS: RuleSet[] = [
  { name: 'no rules', rules: [], recipients: STRANGER, subject: 'Hello', winner: both(null) },
  { name: 'reply (matches replies only)', rules: [{ type: 'reply' }], recipients: STRANGER, subject: 'Hello', winner: { send: null, reply: 'reply' } },
  {
    name: 'domain *.acme.com, all subdomains',
    rules: [{ type: 'domain', match: '*.acme.com' }],
    recipients: ['ann@sales.acme.com', 'bob@eu.ops.acme.com'],
    subject: 'Hello',
    winner: both('domain:*.acme.com'),
  },
  {
    name: 'domain *.acme.com, apex does not match',
    rules: [{ type: 'domain', match: '*.acme.com' }],
    recipients: ['ann@acme.com'],
    subject: 'Hello',
    winner: both(null),
  },
  {
    name: 'domain *.acme.com, one recipient outside',
    rules: [{ type: 'domain', match: '*.acme.com' }],
    recipients: ['ann@sales.acme.com', 'eve@evil.com'],
    subject: 'Hello',
    winner: both(null),
  },
  {
    name: 'contact_list vip, all in list',
    rules: [{ type: 'contact_list', list: 'vip' }],
    recipients: ['vic@vip.net', 'val@vip.net'],
    subject: 'Hello',
    winner: both('contact_list:vip'),
  },
  {
    name: 'contact_list vip, one outside',
    rules: [{ type: 'contact_list', list: 'vip' }],
    recipients: ['vic@vip.net', 'new@stranger.io'],
    subject: 'Hello',
    winner: both(null),
  },
  { name: 'contact_list unknown list', rules: [{ type: 'contact_list', list: 'board' }], recipients: ['vic@vip.net'], subject: 'Hello', winner: both(null) },
  { name: 'subject RE:* matching', rules: [{ type: 'subject', match: 'RE:*' }], recipients: STRANGER, subject: 're: invoice 42', winner: both('subject:RE:*') },
  { name: 'subject RE:* not matching', rules: [{ type: 'subject', match: 'RE:*' }], recipients: STRANGER, subject: 'FW: re: invoice', winner: both(null) },
  {
    name: 'known_contact, all known',
    rules: [{ type: 'known_contact' }],
    recipients: ['kim@known.org', 'lee@known.org'],
    subject: 'Hello',
    winner: both('known_contact'),
  },
  {
    name: 'known_contact, one new',
    rules: [{ type: 'known_contact' }],
    recipients: ['kim@known.org', 'new@stranger.io'],
    subject: 'Hello',
    winner: both(null),
  },
  { name: 'all', rules: [{ type: 'all' }], recipients: STRANGER, subject: 'Hello', winner: both('all') },
  {
    name: 'ordered: first two miss, subject wins over a later all',
    rules: [{ type: 'known_contact' }, { type: 'domain', match: 'acme.com' }, { type: 'subject', match: 'RE:*' }, { type: 'all' }],
    recipients: STRANGER,
    subject: 'RE: hi',
    winner: both('subject:RE:*'),
  },
  {
    name: 'ordered: all first wins over a matching subject',
    rules: [{ type: 'all' }, { type: 'subject', match: 'RE:*' }],
    recipients: STRANGER,
    subject: 'RE: hi',
    winner: both('all'),
  },
  {
    name: 'ordered: reply first, known_contact second',
    rules: [{ type: 'reply' }, { type: 'known_contact' }],
    recipients: ['kim@known.org'],
    subject: 'Hello',
    winner: { send: 'known_contact', reply: 'reply' },
  },
  {
    name: 'ordered: wildcard misses the apex, explicit apex rule matches',
    rules: [
      { type: 'domain', match: '*.acme.com' },
      { type: 'domain', match: 'acme.com' },
    ],
    recipients: ['ann@acme.com'],
    subject: 'Hello',
    winner: both('domain:acme.com'),
  },
  {
    name: 'ordered: nothing matches',
    rules: [{ type: 'domain', match: 'acme.com' }, { type: 'contact_list', list: 'vip' }, { type: 'subject', match: 'invoice*' }, { type: 'known_contact' }],
    recipients: STRANGER,
    subject: 'Hello',
    winner: both(null),
  },
];

function actionFor(kind: Kind, rs: RuleSet): Action {
  if (kind === 'read') return { kind: 'read' };
  if (kind === 'send' || kind === 'reply') return { kind: 'send', recipients: rs.recipients, subject: rs.subject, isReply: kind === 'reply' };
  return { kind: 'write', operation: kind };
}

interface Expected {
  outcome: Decision['outcome'];
  code: Decision['code'];
  notify?: boolean;
  rule?: string;
}

function expected(mode: OversightMode, kind: Kind, requireApproval: boolean, rs: RuleSet): Expected {
  const column = columnOf(kind);
  const cell = SPEC[mode][column];
  if (column === 'send' && requireApproval && cell !== 'block') return { outcome: 'hold', code: 'require_approval' };
  switch (cell) {
    case 'execute':
      return { outcome: 'execute', code: 'mode_allows', notify: false };
    case 'execute_notify':
      return { outcome: 'execute', code: 'mode_allows', notify: true };
    case 'block':
      return { outcome: 'block', code: 'action_blocked' };
    case 'hold':
      return { outcome: 'hold', code: 'mode_requires_approval' };
    case 'hold_unless_rule': {
      const label = rs.winner[kind === 'reply' ? 'reply' : 'send'];
      return label === null ? { outcome: 'hold', code: 'mode_requires_approval' } : { outcome: 'execute', code: 'auto_approved', notify: false, rule: label };
    }
  }
}

/** The decision without its free-text reason; absent fields stay absent so extra ones fail the comparison. */
function summary(d: Decision): Expected {
  const s: Expected = { outcome: d.outcome, code: d.code };
  if ('notify' in d) s.notify = d.notify;
  if ('rule' in d && d.rule !== undefined) s.rule = d.rule;
  return s;
}

const CASES = OVERSIGHT_MODES.flatMap((mode) =>
  KINDS.flatMap((kind) =>
    [false, true].flatMap((requireApproval) =>
      RULE_SETS.map((rs) => ({
        name: `${mode} | ${kind} | require_approval=${requireApproval} | ${rs.name}`,
        mode,
        kind,
        requireApproval,
        rs,
        want: expected(mode, kind, requireApproval, rs),
      })),
    ),
  ),
);

describe('evaluate: the full decision table', () => {
  it('covers every oversight mode', () => {
    expect(Object.keys(SPEC).sort()).toEqual([...OVERSIGHT_MODES].sort());
    expect(CASES).toHaveLength(OVERSIGHT_MODES.length * KINDS.length * 2 * RULE_SETS.length);
  });

  // A loop rather than it.each so the full case name shows (it.each truncates $name).
  for (const { name, mode, kind, requireApproval, rs, want } of CASES)
    it(name, () => {
      const d = evaluate({ mode, rules: rs.rules }, { requireApproval }, actionFor(kind, rs), FACTS);
      expect(summary(d)).toEqual(want);
      if (want.code === 'action_blocked') expect(d.reason).toContain('read_only');
      if (want.code === 'auto_approved') expect(d.reason).toContain(want.rule);
      if (want.code === 'require_approval') expect(d.reason).toContain('require_approval');
    });
});

describe('evaluate: invariants over the table', () => {
  const sends = CASES.filter((c) => columnOf(c.kind) === 'send');

  for (const { name, mode, kind, rs } of sends.filter((c) => c.requireApproval && c.mode !== 'read_only')) {
    it(`require_approval holds even with an all rule appended: ${name}`, () => {
      const d = evaluate({ mode, rules: [...rs.rules, { type: 'all' }] }, { requireApproval: true }, actionFor(kind, rs), FACTS);
      expect(summary(d)).toEqual({ outcome: 'hold', code: 'require_approval' });
    });
  }

  it.each(OVERSIGHT_MODES.filter((m) => m !== 'gated_all' && m !== 'gated_send'))('rules never change a send decision in %s mode', (mode) => {
    const rs = RULE_SETS[0]!;
    for (const kind of ['send', 'reply'] as const) {
      const bare = evaluate({ mode, rules: [] }, { requireApproval: false }, actionFor(kind, rs), FACTS);
      const ruled = evaluate({ mode, rules: [{ type: 'all' }, { type: 'reply' }] }, { requireApproval: false }, actionFor(kind, rs), FACTS);
      expect(ruled).toEqual(bare);
      expect('rule' in ruled && ruled.rule !== undefined).toBe(false);
    }
  });

  it.each(['tag', 'move', 'delete', 'contacts'] as const)('read_only block reason names the operation %s', (op) => {
    const d = evaluate({ mode: 'read_only', rules: [{ type: 'all' }] }, { requireApproval: false }, { kind: 'write', operation: op }, FACTS);
    expect(d.outcome).toBe('block');
    expect(d.reason).toContain(op);
  });

  it('is pure: frozen inputs are not mutated and the same inputs give the same decision', () => {
    const rules = Object.freeze([Object.freeze({ type: 'known_contact' as const }), Object.freeze({ type: 'subject' as const, match: 'RE:*' })]);
    const action = Object.freeze({ kind: 'send' as const, recipients: Object.freeze(['kim@known.org']), subject: 'hi', isReply: false });
    const policy = Object.freeze({ mode: 'gated_send' as const, rules });
    const global = Object.freeze({ requireApproval: false });
    const first = evaluate(policy, global, action, FACTS);
    const second = evaluate(policy, global, action, FACTS);
    expect(first).toEqual({
      outcome: 'execute',
      code: 'auto_approved',
      reason: expect.stringContaining('known_contact'),
      notify: false,
      rule: 'known_contact',
    });
    expect(second).toEqual(first);
    expect([...FACTS.knownContacts]).toEqual(['kim@known.org', 'lee@known.org']);
  });
});
