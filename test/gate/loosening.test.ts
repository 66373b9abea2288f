/** The loosening decision, table-driven: what a session that can draft may change alone, and what needs a person. */
import { describe, expect, it } from 'vitest';
import { loosenings, mailboxStateHash, type MailboxControls, NEW_MAILBOX_CONTROLS, policyLoosenings } from '../../src/gate/loosening.js';
import type { PolicySettings } from '../../src/gate/policy/settings.js';
import type { AutoApproveRule } from '../../src/gate/rules/index.js';
import { OVERSIGHT_MODES, type OversightMode } from '../../src/values.js';

const base: MailboxControls = { oversight_mode: 'gated_send', auto_approve_rules: [], policy: {}, transport: 'sandbox' };
const withMode = (m: OversightMode): MailboxControls => ({ ...base, oversight_mode: m });

describe('modes: read_only < gated_all < gated_send < monitored < autonomous', () => {
  for (const [i, from] of OVERSIGHT_MODES.entries()) {
    for (const [j, to] of OVERSIGHT_MODES.entries()) {
      it(`${from} -> ${to} ${j > i ? 'loosens' : 'does not loosen'}`, () => {
        expect(loosenings(withMode(from), withMode(to))).toEqual(j > i ? [`mode ${from} -> ${to}`] : []);
      });
    }
  }
});

describe('auto-approve rules', () => {
  const domain: AutoApproveRule = { type: 'domain', match: '*.acme.com' };
  const cases: [string, AutoApproveRule[], AutoApproveRule[], number][] = [
    ['adding a first rule', [], [{ type: 'all' }], 1],
    ['adding a second rule', [{ type: 'reply' }], [{ type: 'reply' }, domain], 1],
    ['replacing one rule with another', [{ type: 'reply' }], [{ type: 'known_contact' }], 1],
    ['the same rule with another glob', [domain], [{ type: 'domain', match: '*' }], 1],
    ['removing a rule', [{ type: 'reply' }, domain], [domain], 0],
    ['removing every rule', [{ type: 'all' }], [], 0],
    ['reordering', [{ type: 'reply' }, domain], [domain, { type: 'reply' }], 0],
    ['the same rule with its keys in another order', [domain], [{ match: '*.acme.com', type: 'domain' } as AutoApproveRule], 0],
  ];
  for (const [name, before, after, n] of cases) {
    it(`${name}: ${n ? 'loosens' : 'does not loosen'}`, () => {
      const r = loosenings({ ...base, auto_approve_rules: before }, { ...base, auto_approve_rules: after });
      expect(r).toHaveLength(n);
      if (n) expect(r[0]).toMatch(/^adds auto-approve rule /);
    });
  }

  it('a looser mode with a new rule names both', () => {
    expect(loosenings(base, { ...base, oversight_mode: 'monitored', auto_approve_rules: [{ type: 'all' }] })).toEqual([
      'mode gated_send -> monitored',
      'adds auto-approve rule {"type":"all"}',
    ]);
  });

  it('a stricter mode that adds a rule still loosens (the rule applies when the mode comes back)', () => {
    expect(loosenings(base, { ...base, oversight_mode: 'gated_all', auto_approve_rules: [{ type: 'all' }] })).toHaveLength(1);
  });
});

describe('policy: only a provable tightening is not a loosening', () => {
  const cases: [string, PolicySettings, PolicySettings, string[]][] = [
    ['no change', { max_recipients: 5 }, { max_recipients: 5 }, []],
    ['lowering a cap', { max_recipients: 10 }, { max_recipients: 5 }, []],
    ['raising a cap', { max_recipients: 5 }, { max_recipients: 10 }, ['max_recipients']],
    ['setting a cap that was inherited (the global one may be lower)', {}, { max_recipients: 5 }, ['max_recipients']],
    ['dropping a cap', { max_recipients: 5 }, {}, ['max_recipients']],
    ['lowering a rate limit', { rate_limits: { per_hour: 100 } }, { rate_limits: { per_hour: 10 } }, []],
    [
      'raising one rate limit and lowering another',
      { rate_limits: { per_hour: 10, per_day: 100 } },
      { rate_limits: { per_hour: 20, per_day: 50 } },
      ['rate_limits.per_hour'],
    ],
    ['dropping a rate limit', { rate_limits: { per_day: 100 } }, { rate_limits: {} }, ['rate_limits.per_day']],
    ['a longer dedupe window', { dedupe_window: 600 }, { dedupe_window: 3600 }, []],
    ['turning dedupe off', { dedupe_window: 600 }, { dedupe_window: 0 }, ['dedupe_window']],
    ['turning dedupe on', { dedupe_window: 0 }, { dedupe_window: 60 }, []],
    ['turning the secrets hold off', {}, { content_holds: { secrets: false } }, ['content_holds.secrets']],
    ['turning the secrets hold off explicitly', { content_holds: { secrets: true } }, { content_holds: { secrets: false } }, ['content_holds.secrets']],
    ['unsetting the secrets hold (the global one may be off)', { content_holds: { secrets: true } }, {}, ['content_holds.secrets']],
    ['turning a hold on', {}, { content_holds: { new_external_domain: true } }, []],
    ['turning four eyes on', {}, { four_eyes: true }, []],
    ['turning four eyes off', { four_eyes: true }, { four_eyes: false }, ['four_eyes']],
    ['allowing permanent delete', {}, { allow_permanent_delete: true }, ['allow_permanent_delete']],
    ['allowing permanent delete where it was off', { allow_permanent_delete: false }, { allow_permanent_delete: true }, ['allow_permanent_delete']],
    ['forbidding permanent delete again', { allow_permanent_delete: true }, { allow_permanent_delete: false }, []],
    ['unsetting permanent delete (off by default)', { allow_permanent_delete: true }, {}, []],
    ['permanent delete set off explicitly', {}, { allow_permanent_delete: false }, []],
    ['unsetting an explicit off (the global policy may allow it)', { allow_permanent_delete: false }, {}, ['allow_permanent_delete']],
    ['blocking one more domain', { blocked_domains: ['a.test'] }, { blocked_domains: ['a.test', 'b.test'] }, []],
    ['unblocking a domain', { blocked_domains: ['a.test', 'b.test'] }, { blocked_domains: ['b.test'] }, ['blocked_domains']],
    ['narrowing the allowed domains', { allowed_domains: ['a.test', 'b.test'] }, { allowed_domains: ['a.test'] }, []],
    ['widening the allowed domains', { allowed_domains: ['a.test'] }, { allowed_domains: ['a.test', 'evil.test'] }, ['allowed_domains']],
    ['dropping the allowed domains', { allowed_domains: ['a.test'] }, {}, ['allowed_domains']],
    ['an allow list where the global one applied (it replaces it)', {}, { allowed_domains: ['a.test'] }, ['allowed_domains']],
    ['one more internal domain (fewer external holds)', {}, { internal_domains: ['evil.test'] }, ['internal_domains']],
    ['one internal domain fewer', { internal_domains: ['a.test'] }, {}, []],
    ['a key this rule does not know', {}, { future_setting: true } as PolicySettings, ['future_setting']],
  ];
  for (const [name, before, after, keys] of cases) {
    it(`${name}: ${keys.length ? `loosens ${keys.join(', ')}` : 'does not loosen'}`, () => {
      expect(policyLoosenings(before, after)).toEqual(keys);
      expect(loosenings({ ...base, policy: before }, { ...base, policy: after })).toHaveLength(keys.length);
    });
  }

  it('names the values in the phrase the person is shown', () => {
    expect(loosenings(base, { ...base, policy: { content_holds: { secrets: false } } })).toEqual(['policy content_holds.secrets: (unset) -> false']);
  });
});

describe('transport and new mailboxes', () => {
  it('moving a sandbox mailbox to real SMTP loosens; back to the sandbox does not', () => {
    expect(loosenings(base, { ...base, transport: 'imap_smtp' })).toEqual(['transport sandbox -> imap_smtp']);
    expect(loosenings({ ...base, transport: 'imap_smtp' }, base)).toEqual([]);
  });

  it('a new mailbox is judged against gated_send with no rules and no policy', () => {
    expect(loosenings(NEW_MAILBOX_CONTROLS, NEW_MAILBOX_CONTROLS)).toEqual([]);
    expect(loosenings(NEW_MAILBOX_CONTROLS, withMode('gated_all'))).toEqual([]);
    expect(loosenings(NEW_MAILBOX_CONTROLS, withMode('autonomous'))).toEqual(['mode gated_send -> autonomous']);
    expect(loosenings(NEW_MAILBOX_CONTROLS, { ...base, auto_approve_rules: [{ type: 'all' }] })).toHaveLength(1);
  });
});

describe('mailboxStateHash', () => {
  const row = { ...base, pending_ttl_seconds: 3600, display_name: null, updated_at: 1 };
  it('is the same for the same state, and differs for any change or for no mailbox', () => {
    expect(mailboxStateHash({ ...row })).toBe(mailboxStateHash(row));
    const variants = [{ ...row, oversight_mode: 'autonomous' as const }, { ...row, updated_at: 2 }, { ...row, policy: { four_eyes: true } }, undefined];
    const hashes = new Set([row, ...variants].map((v) => mailboxStateHash(v)));
    expect(hashes.size).toBe(5);
  });
});
