/**
 * What a reply changes against its thread: account numbers (IBAN mod-97, card Luhn, ABA routing, BIC, labelled
 * runs) new to the thread, however they are grouped; link domains new to the thread; links whose text shows
 * another domain; recipients who were not in the thread. Numbers and domains already in the thread stay quiet.
 */
import { describe, expect, it } from 'vitest';
import { abaValid, appearsIn, findAccountNumbers, ibanValid, luhnValid, squash } from '../../src/gate/account-numbers.js';
import { readHtml, sameSite, threadChanges, type ThreadPart } from '../../src/gate/thread-changes.js';

const compact = (s: string) => s.replace(/[\s-]/g, '');

describe('check digits', () => {
  it.each([
    ['DE89 3704 0044 0532 0130 00', true],
    ['GB82 WEST 1234 5698 7654 32', true],
    ['GB29 NWBK 6016 1331 9268 19', true],
    ['FR14 2004 1010 0505 0001 3M02 606', true],
    ['NL91 ABNA 0417 1643 00', true],
    ['CH93 0076 2011 6238 5295 7', true],
    ['NO93 8601 1117 947', true],
    ['BE68 5390 0754 7034', true],
    ['DE89 3704 0044 0532 0130 01', false],
    ['GB82 WEST 1234 5698 7654 33', false],
    ['DE89 3704 0044 0532 0130 0', false],
    ['XX89 3704 0044 0532 0130 00', false],
    ['NL91ABNA041716430', false],
  ])('IBAN %s valid=%s', (iban, ok) => expect(ibanValid(compact(iban))).toBe(ok));

  it.each([
    ['4111111111111111', true],
    ['5555555555554444', true],
    ['378282246310005', true],
    ['6011111111111117', true],
    ['4111111111111112', false],
    ['5555555555554440', false],
    ['0000000000000000', false],
    ['411111111111', false],
  ])('Luhn %s valid=%s', (n, ok) => expect(luhnValid(n)).toBe(ok));

  it.each([
    ['021000021', true],
    ['011000015', true],
    ['122105278', true],
    ['111000025', true],
    ['021000022', false],
    ['123456789', false],
    ['000000000', false],
    ['991000021', false],
    ['02100002', false],
  ])('ABA %s valid=%s', (n, ok) => expect(abaValid(n)).toBe(ok));
});

describe('findAccountNumbers', () => {
  it.each<[string, string, { kind: string; value: string }[]]>([
    ['IBAN grouped by spaces', 'IBAN: DE89 3704 0044 0532 0130 00, thanks', [{ kind: 'iban', value: 'DE89370400440532013000' }]],
    ['IBAN in one piece, lower case', 'pay de89370400440532013000 today', [{ kind: 'iban', value: 'DE89370400440532013000' }]],
    ['IBAN grouped by dashes', 'GB82-WEST-1234-5698-7654-32', [{ kind: 'iban', value: 'GB82WEST12345698765432' }]],
    ['IBAN with a zero-width space inside', 'DE89 3704\u200B 0044 0532 0130 00', [{ kind: 'iban', value: 'DE89370400440532013000' }]],
    ['IBAN in full-width digits', 'DE８９ ３７０４ ００４４ ０５３２ ０１３０ ００', [{ kind: 'iban', value: 'DE89370400440532013000' }]],
    ['IBAN failing mod-97', 'IBAN DE89 3704 0044 0532 0130 01', []],
    ['IBAN glued to more characters', 'DE89370400440532013000123', []],
    ['card with spaces, an expiry after it', 'card 4111 1111 1111 1111 12/27', [{ kind: 'card', value: '4111111111111111' }]],
    ['card with dashes', '5555-5555-5555-4444', [{ kind: 'card', value: '5555555555554444' }]],
    ['card failing Luhn', '4111 1111 1111 1112', []],
    ['routing number', 'Routing: 021000021', [{ kind: 'routing', value: '021000021' }]],
    ['nine digits failing the ABA check', 'order 123456789 shipped', []],
    ['labelled BIC', 'BIC: DEUTDEFF', [{ kind: 'bic', value: 'DEUTDEFF' }]],
    ['unlabelled BIC with a digit', 'to NWBKGB2L please', [{ kind: 'bic', value: 'NWBKGB2L' }]],
    ['shouted words are not BICs', 'CUSTOMER QUESTION: BUSINESS', []],
    ['account number after its label', 'Account no.: 12345678', [{ kind: 'account', value: '12345678' }]],
    ['sort code with dashes', 'sort code 12-34-56', [{ kind: 'account', value: '123456' }]],
    ['acct abbreviation, spaced digits', 'acct 9876 5432 10', [{ kind: 'account', value: '9876543210' }]],
    ['short numbers are not accounts', 'account 1234 is fine', []],
    ['phone numbers and dates', 'call +1 212 555 0100 on 2024-05-06, invoice 2024-001234', []],
  ])('%s', (_name, text, want) => expect(findAccountNumbers(text)).toEqual(want));
});

describe('appearsIn', () => {
  const thread = squash('Our account: 1234 5678. IBAN DE89 3704 0044 0532 0130 00. Call 555 123 4567.');
  it.each([
    ['12345678', true],
    ['DE89370400440532013000', true],
    ['1234567', false],
    ['23456789', false],
    ['5551234567', true],
    ['1234', false],
  ])('%s in the thread: %s', (v, want) => expect(appearsIn(thread, v)).toBe(want));
});

const inbound = (p: Partial<ThreadPart>): ThreadPart => ({
  from: 'bob@acme.example',
  to: ['billing@own.example'],
  cc: [],
  subject: 'Invoice 42',
  text: 'Please pay to IBAN DE89 3704 0044 0532 0130 00. Portal: https://portal.acme.example/inv/42',
  html: null,
  ...p,
});
const reply = (p: Partial<ThreadPart>): ThreadPart => ({ to: ['bob@acme.example'], cc: [], subject: 'Re: Invoice 42', text: 'Thanks.', html: null, ...p });
const kv = (parts: ReturnType<typeof threadChanges>) => parts.map((c) => `${c.kind} ${c.value}`);

describe('threadChanges', () => {
  it.each<[string, Partial<ThreadPart>, string[]]>([
    ['a plain thank-you changes nothing', {}, []],
    ['the IBAN of the thread, regrouped', { text: 'Confirming de89-3704-0044-0532-0130-00.' }, []],
    ['a changed IBAN', { text: 'Our bank details changed: GB82 WEST 1234 5698 7654 32' }, ['new_iban GB82WEST12345698765432']],
    ['a changed IBAN in the HTML', { html: '<p>New IBAN: <b>GB29 NWBK</b> 6016 1331 9268 19</p>' }, ['new_iban GB29NWBK60161331926819']],
    ['a new card number', { text: 'Charge 4111 1111 1111 1111' }, ['new_card_number 4111111111111111']],
    ['a new routing number', { text: 'ABA 021000021' }, ['new_routing_number 021000021']],
    ['a new labelled account', { text: 'Account number 44556677' }, ['new_account_number 44556677']],
    ['a new recipient', { cc: ['eve@evil.example'] }, ['new_recipient eve@evil.example']],
    ['a participant in another case', { to: ['Bob@ACME.example'] }, []],
    ['a new link domain', { text: 'Pay at https://acme-payments.example/pay' }, ['new_link_domain acme-payments.example']],
    ['a bare new domain', { text: 'see evil-bank.online' }, ['new_link_domain evil-bank.online']],
    ['a known link host', { text: 'https://portal.acme.example/inv/43' }, []],
    ['the participant domain and its subdomains', { text: 'www.acme.example and https://pay.acme.example' }, []],
    ['a look-alike IDN domain, in punycode', { text: 'https://portal.\u0430cme.example/' }, ['new_link_domain portal.xn--cme-5cd.example']],
    ['an href to a new domain', { html: '<a href="https://evil.example/x">click</a>' }, ['new_link_domain evil.example']],
    ['a protocol-relative href', { html: '<a href=" //evil.example/x">click</a>' }, ['new_link_domain evil.example']],
    ['the domain of a mailto: link', { html: '<a href="mailto:pay@evil.example">write to us</a>' }, ['new_link_domain evil.example']],
    [
      'link text shows another domain',
      { html: '<a href="https://evil.example/x">portal.acme.example</a>' },
      ['link_text_mismatch portal.acme.example -> evil.example', 'new_link_domain evil.example'],
    ],
    ['link text and target on one site', { html: '<a href="https://portal.acme.example/">www.portal.acme.example</a>' }, []],
  ])('%s', (_name, p, want) => expect(kv(threadChanges(reply(p), [inbound({})]))).toEqual(want));

  it('knows numbers and links from every message of the thread, text and HTML', () => {
    const sent = {
      from: 'billing@own.example',
      to: ['bob@acme.example'],
      cc: ['carol@acme.example'],
      subject: 'Re: Invoice 42',
      text: null,
      html: '<p>Use <a href="https://docs.vendor.example/guide">the guide</a>; card 5555-5555-5555-4444</p>',
    };
    const draft = reply({ cc: ['carol@acme.example'], text: 'Card 5555 5555 5555 4444, guide https://docs.vendor.example/guide' });
    expect(threadChanges(draft, [inbound({}), sent])).toEqual([]);
  });

  it('orders the findings with account numbers first and says where each is', () => {
    const got = threadChanges(reply({ bcc: ['x@evil.example'], subject: 'Re: IBAN GB82 WEST 1234 5698 7654 32', text: 'https://evil.example' }), [inbound({})]);
    expect(got).toEqual([
      { kind: 'new_iban', value: 'GB82WEST12345698765432', where: 'subject' },
      { kind: 'new_recipient', value: 'x@evil.example', where: 'bcc' },
      { kind: 'new_link_domain', value: 'evil.example', where: 'text' },
    ]);
  });

  it('with an empty thread (the email is gone), everything is new', () => {
    expect(kv(threadChanges(reply({ text: 'DE89 3704 0044 0532 0130 00' }), []))).toEqual([
      'new_iban DE89370400440532013000',
      'new_recipient bob@acme.example',
    ]);
  });

  it('without a thread (not a reply) flags only disguised links', () => {
    const draft = reply({
      to: ['new@else.example'],
      text: 'IBAN GB82 WEST 1234 5698 7654 32 at https://new.example',
      html: '<a href="https://evil.example">https://paypal.com/login</a> <a href="https://ok.example/a">ok.example</a>',
    });
    expect(kv(threadChanges(draft, null))).toEqual(['link_text_mismatch paypal.com -> evil.example']);
  });

  it('reads HTML with a parser: entities decoded, script and style ignored, form actions are links', () => {
    const h = readHtml('<style>a{}</style><script>var x="DE89"</script><p>IBAN&nbsp;DE89</p><form action="https://f.example/post"></form>');
    expect(h.text).not.toContain('var x');
    expect(h.text).toContain('IBAN\u00a0DE89');
    expect(h.anchors).toEqual([{ href: 'https://f.example/post', shown: '' }]);
  });

  it('sameSite: subdomains belong to their parent, never through a bare TLD', () => {
    expect(sameSite('www.acme.example', 'acme.example')).toBe(true);
    expect(sameSite('acme.example', 'evilacme.example')).toBe(false);
    expect(sameSite('a.example', 'example')).toBe(false);
  });

  it('stays fast on long hostile text (no catastrophic backtracking)', () => {
    const hostile = `${'1 '.repeat(50_000)}${'DE8'.repeat(20_000)} ${'account '.repeat(5_000)}${'a-'.repeat(50_000)}`;
    const start = performance.now();
    threadChanges(reply({ text: hostile, html: `<p>${hostile}</p>` }), [inbound({ text: hostile })]);
    expect(performance.now() - start).toBeLessThan(3000);
  });
});
