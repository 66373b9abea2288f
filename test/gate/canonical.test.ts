/**
 * Suppression-list bypass attempts. Every row is an (entry, recipient) pair written in two different forms of
 * the same address or domain (case, Unicode compatibility forms, NFC/NFD, IDN Unicode vs punycode, trailing
 * dots, sub-addresses, subdomains); each must be caught. Look-alikes that are really different addresses must
 * not be. Each row is checked twice: through suppressionKeys and the pure rule, and through the real store
 * (the SQL lookup in src/store/policy-facts.ts) and gate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalDomain, canonicalEmail, domainAndParents, parseSuppressionEntry, suppressionKeys, withoutSubaddress } from '../../src/gate/canonical.js';
import { checkPolicy, EMPTY_FACTS, type PolicyFacts, POLICY_DEFAULTS } from '../../src/gate/policy/index.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import { addMailbox, content, gateFor, OPERATOR, T0, testDb } from '../store/fixtures.js';

const NFD_U = 'u\u0308'; // u + combining diaeresis: "ü" decomposed
const FW = (s: string) => [...s].map((c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0)).join(''); // full-width letters

/** [what, suppression entry, recipient] */
const CAUGHT: [string, string, string][] = [
  ['upper-case recipient', 'evil@example.com', 'EVIL@EXAMPLE.COM'],
  ['mixed-case entry', 'Evil@Example.Com', 'evil@example.com'],
  ['mixed-case domain entry', 'Example.COM', 'Someone@eXample.com'],
  ['full-width domain in the recipient', 'evil@example.com', `evil@${FW('example')}.com`],
  ['full-width domain in the entry', `evil@${FW('e')}xample.com`, 'evil@example.com'],
  ['full-width local part', 'evil@example.com', `${FW('EVIL')}@example.com`],
  ['full-width dot (U+FF0E)', 'example.com', 'x@example\uff0ecom'],
  ['ideographic full stop (U+3002)', 'example.com', 'x@example\u3002com'],
  ['soft hyphen inside the domain (IDNA ignores it)', 'evil.com', 'x@ev\u00adil.com'],
  ['NFC entry, NFD recipient', 'bücher.example', `x@b${NFD_U}cher.example`],
  ['NFD entry, NFC recipient', `b${NFD_U}cher.example`, 'x@bücher.example'],
  ['NFD address entry, NFC recipient', `anna@b${NFD_U}cher.example`, 'anna@bücher.example'],
  ['IDN Unicode entry, punycode recipient', 'bücher.example', 'x@xn--bcher-kva.example'],
  ['IDN Unicode entry, upper-case punycode recipient', 'Bücher.example', 'X@XN--BCHER-KVA.EXAMPLE'],
  ['punycode entry, IDN Unicode recipient', 'xn--bcher-kva.example', 'x@bücher.example'],
  ['punycode address entry, Unicode recipient', 'anna@xn--bcher-kva.example', 'anna@BÜCHER.example'],
  ['trailing dot on the entry', 'evil.com.', 'x@evil.com'],
  ['trailing dot on the recipient', 'evil.com', 'x@evil.com.'],
  ['trailing dot on an address entry', 'anna@evil.com.', 'anna@evil.com'],
  ['trailing dot on the recipient of an address entry', 'anna@evil.com', 'anna@evil.com.'],
  ['sub-address of a suppressed person', 'anna@example.com', 'anna+news@example.com'],
  ['sub-address, upper case', 'anna@example.com', 'ANNA+Promo@Example.COM'],
  ['subdomain of a suppressed domain', 'evil.com', 'x@mail.evil.com'],
  ['deep subdomain', 'evil.com', 'x@a.b.c.evil.com'],
  ['wildcard entry covers the apex', '*.evil.com', 'x@evil.com'],
  ['everything at once', 'Bücher.Example.', `ANNA+x@MAIL.B${NFD_U.toUpperCase()}CHER.example.`],
];

const MISSED: [string, string, string][] = [
  ['a different domain that ends with the same letters', 'evil.com', 'x@notevil.com'],
  ['the suppressed domain inside a longer one', 'evil.com', 'x@evil.com.au'],
  ['the domain in the local part', 'evil.com', 'evil.com@good.org'],
  ['a different local part', 'name@example.com', 'name2@example.com'],
  ['a local part that starts the same', 'name@example.com', 'nam@example.com'],
  ['the person at a subdomain (an address entry is one address)', 'name@example.com', 'name@mail.example.com'],
  ['a suppressed sub-address does not cover the person', 'name+news@example.com', 'name@example.com'],
  ['a different IDN (ü vs u)', 'bücher.example', 'x@bucher.example'],
  ['a parent of a suppressed subdomain', 'mail.evil.com', 'x@evil.com'],
];

/** The pure path: the entry as the list stores it, looked up under every key of the recipient, then the rule. */
function pureFacts(entry: string, recipient: string): PolicyFacts {
  const e = parseSuppressionEntry(entry)!;
  const keys = suppressionKeys(recipient);
  const hit = (e.kind === 'address' ? keys.addresses : keys.domains).includes(e.value);
  return { ...EMPTY_FACTS(T0), suppressed: new Map(hit ? [[recipient, { ...e, reason: null }]] : []) };
}
const pureCode = (entry: string, recipient: string) => {
  const draft = { mailbox: 'a@own.test', recipients: [recipient], subject: 's', text: 't', html: null, attachments: [], threadParticipants: null };
  return checkPolicy(POLICY_DEFAULTS, draft, pureFacts(entry, recipient)).map((h) => h.code);
};

describe('pure: suppressionKeys + the suppression rule', () => {
  it.each(CAUGHT)('caught: %s (%s vs %s)', (_, entry, recipient) => {
    expect(parseSuppressionEntry(entry)).not.toBeNull();
    expect(pureCode(entry, recipient)).toEqual(['suppressed_recipient']);
  });

  it.each(MISSED)('not suppressed: %s (%s vs %s)', (_, entry, recipient) => {
    expect(pureCode(entry, recipient)).toEqual([]);
  });
});

describe('store: the entry added to the list, the recipient sent through the real gate', () => {
  const MB = 'agent@own.test';
  const t = testDb();
  const store = t.open();
  beforeAll(() => addMailbox(store, MB, 'autonomous', { policy: { dedupe_window: 0 } }));
  afterAll(() => t.close());

  async function codeFor(entry: string, recipient: string): Promise<string> {
    const e = parseSuppressionEntry(entry)!;
    await store.addSuppression({ scope: '*', ...e, reason: null, source: 'manual', created_by: OPERATOR }, T0);
    try {
      const c = content({ to: [recipient] });
      const d = await store.simulateSubmit(
        { message_id: newMessageId(), message_id_header: newMessageIdHeader(MB), mailbox: MB, kind: 'send', content: c, actor: 'agent:test' },
        gateFor(c, false, MB),
        T0,
      );
      return d.code;
    } finally {
      await store.removeSuppression({ scope: '*', ...e }, OPERATOR, T0);
    }
  }

  it.each(CAUGHT)('caught: %s (%s vs %s)', async (_, entry, recipient) => {
    expect(await codeFor(entry, recipient)).toBe('suppressed_recipient');
  });

  it.each(MISSED)('not suppressed: %s (%s vs %s)', async (_, entry, recipient) => {
    expect(await codeFor(entry, recipient)).toBe('mode_allows');
  });
});

describe('the canonical forms themselves', () => {
  it.each([
    ['EXAMPLE.com', 'example.com'],
    ['example.com.', 'example.com'],
    [`${FW('EXAMPLE')}.com`, 'example.com'],
    ['bücher.example', 'xn--bcher-kva.example'],
    [`b${NFD_U}cher.example`, 'xn--bcher-kva.example'],
    ['XN--BCHER-KVA.example.', 'xn--bcher-kva.example'],
    ['  example.com  ', 'example.com'],
  ])('domain %j -> %s', (input, expected) => {
    expect(canonicalDomain(input)).toBe(expected);
  });

  it('addresses, sub-addresses and parents', () => {
    expect(canonicalEmail('Anna+Tag@Bücher.Example.')).toBe('anna+tag@xn--bcher-kva.example');
    expect(withoutSubaddress('anna+tag+more@x.test')).toBe('anna@x.test');
    expect(withoutSubaddress('+tag@x.test')).toBe('+tag@x.test'); // no local part before the +: nothing to strip to
    expect(domainAndParents('a.b.example.com')).toEqual(['a.b.example.com', 'b.example.com', 'example.com', 'com']);
    expect(suppressionKeys('Anna+Tag@Mail.Example.COM.')).toEqual({
      addresses: ['anna+tag@mail.example.com', 'anna@mail.example.com'],
      domains: ['mail.example.com', 'example.com', 'com'],
    });
  });

  it.each(['', '   ', 'not a domain', '@example.com', 'name@', 'a@b@', 'exa mple.com', 'name@exa mple.com', '*.'])('entry %j is refused', (entry) => {
    expect(parseSuppressionEntry(entry)).toBeNull();
  });
});
