/** Mode vocabularies: resolveMode maps every alias onto oversight_mode + rules, then the gate decides on that. */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/gate/evaluate.js';
import { isLoosening, isLooserMode, modeRank, resolveMode, type ModeInput, type ResolvedMode } from '../../src/gate/modes.js';
import type { AutoApproveRule } from '../../src/gate/rules/index.js';
import type { Decision, Facts } from '../../src/gate/types.js';
import { OVERSIGHT_MODES, type OversightMode } from '../../src/values.js';

const ACME: AutoApproveRule = { type: 'domain', match: 'acme.com' };
const REPLY: AutoApproveRule = { type: 'reply' };

describe('resolveMode: accepted inputs', () => {
  const rows: [string, ModeInput, OversightMode | undefined, ResolvedMode][] = [
    ['nothing -> default fallback', {}, undefined, { mode: 'gated_send', rules: [], source: 'oversight_mode' }],
    ['nothing -> given fallback', {}, 'monitored', { mode: 'monitored', rules: [], source: 'oversight_mode' }],
    ['rules only -> fallback with rules', { auto_approve_rules: [ACME] }, 'gated_all', { mode: 'gated_all', rules: [ACME], source: 'oversight_mode' }],
    ...OVERSIGHT_MODES.map((m): [string, ModeInput, OversightMode | undefined, ResolvedMode] => [
      `oversight_mode ${m}`,
      { oversight_mode: m },
      'read_only',
      { mode: m, rules: [], source: 'oversight_mode' },
    ]),
    [
      'oversight_mode with ordered rules',
      { oversight_mode: 'gated_all', auto_approve_rules: [REPLY, ACME] },
      undefined,
      { mode: 'gated_all', rules: [REPLY, ACME], source: 'oversight_mode' },
    ],
    ['autonomy_level 1', { autonomy_level: 1 }, 'autonomous', { mode: 'gated_send', rules: [], source: 'autonomy_level=1' }],
    ['autonomy_level 2', { autonomy_level: 2 }, 'autonomous', { mode: 'gated_send', rules: [{ type: 'known_contact' }], source: 'autonomy_level=2' }],
    ['autonomy_level 3', { autonomy_level: 3 }, 'read_only', { mode: 'autonomous', rules: [], source: 'autonomy_level=3' }],
    [
      'autonomy_level with an empty rule list',
      { autonomy_level: 2, auto_approve_rules: [] },
      undefined,
      { mode: 'gated_send', rules: [{ type: 'known_contact' }], source: 'autonomy_level=2' },
    ],
    ['approval_mode all', { approval_mode: 'all' }, 'autonomous', { mode: 'gated_send', rules: [], source: 'approval_mode=all' }],
    ['approval_mode none', { approval_mode: 'none' }, 'read_only', { mode: 'autonomous', rules: [], source: 'approval_mode=none' }],
    [
      'approval_mode smart with rules',
      { approval_mode: 'smart', auto_approve_rules: [ACME, REPLY] },
      'autonomous',
      { mode: 'gated_send', rules: [ACME, REPLY], source: 'approval_mode=smart' },
    ],
    ['approval_mode smart without rules', { approval_mode: 'smart' }, undefined, { mode: 'gated_send', rules: [], source: 'approval_mode=smart' }],
  ];

  it.each(rows)('%s', (_name, input, fallback, want) => {
    expect(resolveMode(input, fallback)).toEqual({ ok: true, value: want });
  });

  it('copies the rule list, so later changes to the input do not leak into the resolved mode', () => {
    const rules: AutoApproveRule[] = [ACME];
    const r = resolveMode({ oversight_mode: 'gated_send', auto_approve_rules: rules });
    rules.push(REPLY);
    expect(r.ok && r.value.rules).toEqual([ACME]);
  });
});

describe('resolveMode: refused inputs', () => {
  const twoVocabularies: [ModeInput, string[]][] = [
    [{ oversight_mode: 'autonomous', autonomy_level: 1 }, ['oversight_mode', 'autonomy_level']],
    [{ oversight_mode: 'gated_send', approval_mode: 'all' }, ['oversight_mode', 'approval_mode']],
    [{ autonomy_level: 2, approval_mode: 'smart' }, ['autonomy_level', 'approval_mode']],
    [{ oversight_mode: 'monitored', autonomy_level: 3, approval_mode: 'none' }, ['oversight_mode', 'autonomy_level', 'approval_mode']],
  ];

  it.each(twoVocabularies)('more than one vocabulary %o', (input, fields) => {
    const r = resolveMode(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(fields).toContain(r.field);
    for (const f of fields) expect(r.message).toContain(f);
  });

  const rulesConflicts: [ModeInput, string][] = [
    [{ autonomy_level: 1, auto_approve_rules: [ACME] }, 'autonomy_level'],
    [{ autonomy_level: 2, auto_approve_rules: [{ type: 'known_contact' }] }, 'autonomy_level'],
    [{ autonomy_level: 3, auto_approve_rules: [REPLY] }, 'autonomy_level'],
    [{ approval_mode: 'all', auto_approve_rules: [ACME] }, 'approval_mode=all'],
    [{ approval_mode: 'none', auto_approve_rules: [REPLY, ACME] }, 'approval_mode=none'],
  ];

  it.each(rulesConflicts)('rules with %o', (input, what) => {
    const r = resolveMode(input);
    expect(r).toEqual({ ok: false, field: 'auto_approve_rules', message: expect.stringContaining(what) });
    expect(!r.ok && r.message).toContain('auto_approve_rules');
  });
});

describe('resolveMode then evaluate', () => {
  const FACTS: Facts = {
    knownContacts: new Set(['kim@known.org', 'lee@known.org']),
    contactLists: new Map(),
  };
  type Want = Pick<Decision, 'outcome' | 'code'> & { notify?: boolean; rule?: string };
  const HOLD: Want = { outcome: 'hold', code: 'mode_requires_approval' };
  const GO: Want = { outcome: 'execute', code: 'mode_allows', notify: false };
  const known = ['kim@known.org'];
  const first = ['new@stranger.io'];
  const mixed = ['kim@known.org', 'new@stranger.io'];

  const rows: [string, ModeInput, boolean, { recipients: string[]; subject?: string; isReply?: boolean } | 'tag' | 'read', Want][] = [
    ['level 1 holds even a known contact', { autonomy_level: 1 }, false, { recipients: known }, HOLD],
    ['level 1 holds a reply', { autonomy_level: 1 }, false, { recipients: known, isReply: true }, HOLD],
    ['level 1 lets a tag through', { autonomy_level: 1 }, false, 'tag', GO],
    ['level 2 holds a first contact', { autonomy_level: 2 }, false, { recipients: first }, HOLD],
    [
      'level 2 sends to a known contact',
      { autonomy_level: 2 },
      false,
      { recipients: known },
      { outcome: 'execute', code: 'auto_approved', notify: false, rule: 'known_contact' },
    ],
    [
      'level 2 sends to several known contacts',
      { autonomy_level: 2 },
      false,
      { recipients: ['kim@known.org', 'lee@known.org'] },
      { outcome: 'execute', code: 'auto_approved', notify: false, rule: 'known_contact' },
    ],
    ['level 2 holds known plus first contact', { autonomy_level: 2 }, false, { recipients: mixed }, HOLD],
    ['level 2 with require_approval holds a known contact', { autonomy_level: 2 }, true, { recipients: known }, { outcome: 'hold', code: 'require_approval' }],
    ['level 3 sends to a first contact', { autonomy_level: 3 }, false, { recipients: first }, GO],
    ['level 3 with require_approval holds', { autonomy_level: 3 }, true, { recipients: first }, { outcome: 'hold', code: 'require_approval' }],
    ['approval all holds a known contact', { approval_mode: 'all' }, false, { recipients: known }, HOLD],
    ['approval none sends to a first contact', { approval_mode: 'none' }, false, { recipients: first }, GO],
    [
      'approval smart [domain] sends inside the domain',
      { approval_mode: 'smart', auto_approve_rules: [ACME] },
      false,
      { recipients: ['a@acme.com'] },
      { outcome: 'execute', code: 'auto_approved', notify: false, rule: 'domain:acme.com' },
    ],
    ['approval smart [domain] holds outside it', { approval_mode: 'smart', auto_approve_rules: [ACME] }, false, { recipients: ['a@other.com'] }, HOLD],
    [
      'approval smart [domain, reply] sends a reply outside the domain',
      { approval_mode: 'smart', auto_approve_rules: [ACME, REPLY] },
      false,
      { recipients: ['a@other.com'], isReply: true },
      { outcome: 'execute', code: 'auto_approved', notify: false, rule: 'reply' },
    ],
    ['approval smart without rules holds', { approval_mode: 'smart' }, false, { recipients: known }, HOLD],
    ['oversight read_only blocks a send', { oversight_mode: 'read_only' }, false, { recipients: known }, { outcome: 'block', code: 'action_blocked' }],
    ['oversight read_only blocks a tag', { oversight_mode: 'read_only' }, false, 'tag', { outcome: 'block', code: 'action_blocked' }],
    ['oversight read_only allows a read', { oversight_mode: 'read_only' }, true, 'read', GO],
    ['oversight gated_all holds a tag', { oversight_mode: 'gated_all', auto_approve_rules: [{ type: 'all' }] }, false, 'tag', HOLD],
    [
      'oversight gated_all with [all] sends',
      { oversight_mode: 'gated_all', auto_approve_rules: [{ type: 'all' }] },
      false,
      { recipients: first },
      { outcome: 'execute', code: 'auto_approved', notify: false, rule: 'all' },
    ],
    ['oversight monitored notifies', { oversight_mode: 'monitored' }, false, { recipients: first }, { outcome: 'execute', code: 'mode_allows', notify: true }],
    ['fallback (gated_send) holds a first contact', {}, false, { recipients: first }, HOLD],
  ];

  it.each(rows)('%s', (_name, input, requireApproval, what, want) => {
    const r = resolveMode(input);
    if (!r.ok) throw new Error(`resolveMode refused ${JSON.stringify(input)}: ${r.message}`);
    const action =
      what === 'read'
        ? { kind: 'read' as const }
        : what === 'tag'
          ? { kind: 'write' as const, operation: 'tag' as const }
          : { kind: 'send' as const, recipients: what.recipients, subject: what.subject ?? 'Hello', isReply: what.isReply ?? false };
    const d = evaluate({ mode: r.value.mode, rules: r.value.rules }, { requireApproval }, action, FACTS);
    const { reason: _reason, ...rest } = d;
    expect(rest).toEqual(want);
  });
});

describe('isLoosening: what the config file apply audits as loosened', () => {
  it('ranks the modes read_only < gated_all < gated_send < monitored < autonomous', () => {
    expect([...OVERSIGHT_MODES].sort((a, b) => modeRank(a) - modeRank(b))).toEqual(['read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous']);
    for (const from of OVERSIGHT_MODES) {
      for (const to of OVERSIGHT_MODES) expect(isLooserMode(from, to), `${from} -> ${to}`).toBe(modeRank(to) > modeRank(from));
    }
  });

  const KEYS_REORDERED = { match: 'acme.com', type: 'domain' } as AutoApproveRule;
  const rows: [string, OversightMode, AutoApproveRule[], OversightMode, AutoApproveRule[], boolean][] = [
    ['a looser mode', 'read_only', [], 'gated_all', [], true],
    ['the loosest move', 'read_only', [], 'autonomous', [], true],
    ['a stricter mode', 'autonomous', [], 'read_only', [], false],
    ['the same mode and rules', 'gated_send', [REPLY], 'gated_send', [REPLY], false],
    ['a rule added', 'gated_send', [], 'gated_send', [REPLY], true],
    ['a second rule added', 'gated_send', [REPLY], 'gated_send', [REPLY, ACME], true],
    ['a rule removed', 'gated_send', [REPLY, ACME], 'gated_send', [ACME], false],
    ['rules reordered', 'gated_send', [REPLY, ACME], 'gated_send', [ACME, REPLY], false],
    ['a rule with its keys in another order', 'gated_send', [ACME], 'gated_send', [KEYS_REORDERED], false],
    ['a rule changed (another domain)', 'gated_send', [ACME], 'gated_send', [{ type: 'domain', match: 'evil.example' }], true],
    ['stricter mode but a rule added', 'monitored', [], 'gated_send', [REPLY], true],
  ];
  it.each(rows)('%s', (_name, fromMode, fromRules, toMode, toRules, want) => {
    expect(isLoosening({ mode: fromMode, rules: fromRules }, { mode: toMode, rules: toRules })).toBe(want);
  });
});
