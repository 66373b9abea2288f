/** Auto-approve rule semantics, one table per rule type, plus the rule schema and labels. */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../src/gate/evaluate.js';
import { AutoApproveRule, AutoApproveRules, describeRule, ruleMatches } from '../../src/gate/rules/index.js';
import type { Facts } from '../../src/gate/types.js';

const FACTS: Facts = {
  knownContacts: new Set(['kim@known.org', 'lee@known.org']),
  contactLists: new Map<string, ReadonlySet<string>>([
    ['vip', new Set(['vic@vip.net', 'val@vip.net'])],
    ['empty', new Set()],
  ]),
};

const send = (recipients: string[], subject = 'Hello', isReply = false) => ({ kind: 'send' as const, recipients, subject, isReply });

interface Row {
  rule: AutoApproveRule;
  recipients: string[];
  subject?: string;
  isReply?: boolean;
  matches: boolean;
  why: string;
}

const ROWS: Row[] = [
  // reply
  { rule: { type: 'reply' }, recipients: ['a@x.com'], isReply: true, matches: true, why: 'a reply' },
  { rule: { type: 'reply' }, recipients: ['a@x.com'], isReply: false, matches: false, why: 'a first message' },
  {
    rule: { type: 'reply' },
    recipients: ['a@x.com'],
    subject: 'RE: looks like a reply',
    isReply: false,
    matches: false,
    why: 'a subject starting RE: is not a reply',
  },

  // domain: wildcard is subdomains only
  { rule: { type: 'domain', match: '*.acme.com' }, recipients: ['a@sub.acme.com'], matches: true, why: 'one-level subdomain' },
  { rule: { type: 'domain', match: '*.acme.com' }, recipients: ['a@a.b.acme.com'], matches: true, why: 'two-level subdomain' },
  { rule: { type: 'domain', match: '*.acme.com' }, recipients: ['a@acme.com'], matches: false, why: 'the apex is not a subdomain' },
  { rule: { type: 'domain', match: '*.acme.com' }, recipients: ['a@notacme.com'], matches: false, why: 'a suffix without the dot' },
  { rule: { type: 'domain', match: '*.acme.com' }, recipients: ['a@sub.acme.com.evil.io'], matches: false, why: 'acme.com inside a longer domain' },
  { rule: { type: 'domain', match: '*.ACME.com' }, recipients: ['a@sub.acme.com'], matches: true, why: 'case-insensitive pattern' },
  { rule: { type: 'domain', match: '*.acme.com' }, recipients: ['a@SUB.Acme.COM'], matches: true, why: 'case-insensitive domain' },
  // domain: exact
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@acme.com'], matches: true, why: 'exact apex' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@sub.acme.com'], matches: false, why: 'exact does not include subdomains' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@acmexcom'], matches: false, why: 'the dot is literal' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@acme.com.au'], matches: false, why: 'anchored at the end' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@xacme.com'], matches: false, why: 'anchored at the start' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['acme.com@evil.io'], matches: false, why: 'the domain is after the @, not in the local part' },
  {
    rule: { type: 'domain', match: 'acme.com' },
    recipients: ['"x@evil.io"@acme.com'],
    matches: true,
    why: 'the domain is after the last @ (quoted local part)',
  },
  {
    rule: { type: 'domain', match: '*evil.io*' },
    recipients: ['"x@evil.io"@acme.com'],
    matches: false,
    why: 'an @ inside a quoted local part is not the domain',
  },
  { rule: { type: 'domain', match: 'acme.c?m' }, recipients: ['a@acme.com'], matches: true, why: '? is one character' },
  // domain: trailing dots
  { rule: { type: 'domain', match: 'acme.com.' }, recipients: ['a@acme.com'], matches: true, why: 'trailing dot on the pattern' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@acme.com.'], matches: true, why: 'trailing dot on the address' },
  { rule: { type: 'domain', match: '*.acme.com' }, recipients: ['a@acme.com.'], matches: false, why: 'a trailing dot does not turn the apex into a subdomain' },
  // domain: every recipient
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@acme.com', 'b@acme.com'], matches: true, why: 'all recipients inside' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['a@acme.com', 'b@evil.io'], matches: false, why: 'one recipient outside (last)' },
  { rule: { type: 'domain', match: 'acme.com' }, recipients: ['b@evil.io', 'a@acme.com'], matches: false, why: 'one recipient outside (first)' },
  { rule: { type: 'domain', match: '*' }, recipients: [], matches: false, why: 'no recipients fails closed' },

  // contact_list
  { rule: { type: 'contact_list', list: 'vip' }, recipients: ['vic@vip.net'], matches: true, why: 'one member' },
  { rule: { type: 'contact_list', list: 'vip' }, recipients: ['vic@vip.net', 'val@vip.net'], matches: true, why: 'all members' },
  { rule: { type: 'contact_list', list: 'vip' }, recipients: ['vic@vip.net', 'kim@known.org'], matches: false, why: 'one non-member' },
  { rule: { type: 'contact_list', list: 'vip' }, recipients: ['eve@vip.net'], matches: false, why: 'same domain is not membership' },
  { rule: { type: 'contact_list', list: 'board' }, recipients: ['vic@vip.net'], matches: false, why: 'unknown list matches nothing' },
  { rule: { type: 'contact_list', list: 'empty' }, recipients: ['vic@vip.net'], matches: false, why: 'empty list matches nothing' },
  { rule: { type: 'contact_list', list: 'vip' }, recipients: [], matches: false, why: 'no recipients fails closed' },

  // subject
  { rule: { type: 'subject', match: 'RE:*' }, recipients: ['a@x.com'], subject: 'RE: hello', matches: true, why: 'upper case' },
  { rule: { type: 'subject', match: 'RE:*' }, recipients: ['a@x.com'], subject: 're: hello', matches: true, why: 'case-insensitive' },
  { rule: { type: 'subject', match: 'RE:*' }, recipients: ['a@x.com'], subject: 'Re:', matches: true, why: '* matches nothing' },
  { rule: { type: 'subject', match: 'RE:*' }, recipients: ['a@x.com'], subject: 'FW: RE: hello', matches: false, why: 'anchored at the start' },
  { rule: { type: 'subject', match: 'RE:*' }, recipients: ['a@x.com'], subject: 'hello', matches: false, why: 'plain subject' },
  { rule: { type: 'subject', match: '*invoice*' }, recipients: ['a@x.com'], subject: 'Your INVOICE 42', matches: true, why: 'contains' },
  { rule: { type: 'subject', match: '[urgent]*' }, recipients: ['a@x.com'], subject: '[URGENT] server down', matches: true, why: 'brackets are literal' },
  {
    rule: { type: 'subject', match: '[urgent]*' },
    recipients: ['a@x.com'],
    subject: 'u server down',
    matches: false,
    why: 'brackets are not a character class',
  },
  { rule: { type: 'subject', match: 'Q? report' }, recipients: ['a@x.com'], subject: 'Q3 report', matches: true, why: '? is one character' },
  { rule: { type: 'subject', match: 'Q? report' }, recipients: ['a@x.com'], subject: 'Q10 report', matches: false, why: '? is not two characters' },
  { rule: { type: 'subject', match: 'a+b' }, recipients: ['a@x.com'], subject: 'aab', matches: false, why: '+ is literal' },

  // known_contact
  { rule: { type: 'known_contact' }, recipients: ['kim@known.org'], matches: true, why: 'one known' },
  { rule: { type: 'known_contact' }, recipients: ['kim@known.org', 'lee@known.org'], matches: true, why: 'all known' },
  { rule: { type: 'known_contact' }, recipients: ['kim@known.org', 'new@known.org'], matches: false, why: 'one first contact' },
  { rule: { type: 'known_contact' }, recipients: ['new@stranger.io'], matches: false, why: 'first contact' },
  { rule: { type: 'known_contact' }, recipients: [], matches: false, why: 'no recipients fails closed' },

  // all
  { rule: { type: 'all' }, recipients: ['new@stranger.io'], matches: true, why: 'anyone' },
  { rule: { type: 'all' }, recipients: ['a@x.com', 'b@y.com'], subject: '', matches: true, why: 'any subject' },
];

const NAMED = ROWS.map((r) => ({ ...r, name: `${Object.values(r.rule).join(' ')} [${r.recipients.join(', ')}]` }));

describe('ruleMatches', () => {
  for (const { name, why, rule, recipients, subject, isReply, matches } of NAMED) {
    it(`${name}: ${why} -> ${matches}`, () => {
      expect(ruleMatches(rule, send(recipients, subject, isReply), FACTS)).toBe(matches);
    });
  }

  // The same table through the gate: in gated_send a match executes with the rule's label, a miss holds.
  for (const { name, why, rule, recipients, subject, isReply, matches } of NAMED) {
    it(`via evaluate(gated_send): ${name}: ${why}`, () => {
      const d = evaluate({ mode: 'gated_send', rules: [rule] }, { requireApproval: false }, send(recipients, subject, isReply), FACTS);
      if (matches) expect(d).toMatchObject({ outcome: 'execute', code: 'auto_approved', notify: false, rule: describeRule(rule) });
      else expect(d).toMatchObject({ outcome: 'hold', code: 'mode_requires_approval' });
    });
  }
});

describe('describeRule', () => {
  it.each([
    [{ type: 'reply' }, 'reply'],
    [{ type: 'domain', match: '*.acme.com' }, 'domain:*.acme.com'],
    [{ type: 'contact_list', list: 'vip' }, 'contact_list:vip'],
    [{ type: 'subject', match: 'RE:*' }, 'subject:RE:*'],
    [{ type: 'known_contact' }, 'known_contact'],
    [{ type: 'all' }, 'all'],
  ] as [AutoApproveRule, string][])('%o -> %s', (rule, label) => {
    expect(describeRule(rule)).toBe(label);
  });
});

describe('AutoApproveRule schema', () => {
  it.each([
    [
      { type: 'domain', match: '  *.ACME.com ' },
      { type: 'domain', match: '*.acme.com' },
    ],
    [
      { type: 'subject', match: ' RE:* ' },
      { type: 'subject', match: 'RE:*' },
    ],
    [
      { type: 'contact_list', list: ' vip ' },
      { type: 'contact_list', list: 'vip' },
    ],
    [{ type: 'reply' }, { type: 'reply' }],
    [{ type: 'known_contact' }, { type: 'known_contact' }],
    [{ type: 'all' }, { type: 'all' }],
  ])('accepts %o as %o', (input, output) => {
    expect(AutoApproveRule.parse(input)).toEqual(output);
  });

  it.each([
    [{ type: 'everyone' }, 'rule type must be one of'],
    [{ type: 'domain' }, ''],
    [{ type: 'domain', match: '   ' }, 'domain glob is empty'],
    [{ type: 'subject', match: '' }, 'subject glob is empty'],
    [{ type: 'subject', match: 'x'.repeat(257) }, 'longer than 256'],
    [{ type: 'contact_list', list: '' }, ''],
    [{ type: 'contact_list', list: 'x'.repeat(101) }, ''],
    [{ type: 'all', match: '*' }, ''],
    [{ type: 'reply', extra: true }, ''],
  ])('rejects %o', (input, message) => {
    const r = AutoApproveRule.safeParse(input);
    expect(r.success).toBe(false);
    if (!r.success && message) expect(r.error.issues.map((i) => i.message).join('\n')).toContain(message);
  });

  it('caps the list at 100 rules', () => {
    expect(AutoApproveRules.safeParse(Array(100).fill({ type: 'all' })).success).toBe(true);
    expect(AutoApproveRules.safeParse(Array(101).fill({ type: 'all' })).success).toBe(false);
  });
});
