/**
 * The secrets content hold: each kind of credential is found wherever a draft carries text (subject, text,
 * html, a text attachment), key files are caught by name, ordinary prose and near-misses are left alone, and
 * no pattern backtracks its way into seconds on attacker-chosen text (ReDoS).
 * Sample credentials are assembled at run time so secret scanners do not flag this file.
 */
import { describe, expect, it } from 'vitest';
import { checkPolicy, type Draft, EMPTY_FACTS, PolicySettings, resolvePolicy } from '../../src/gate/policy/index.js';
import { findSecrets } from '../../src/gate/policy/secrets.js';

const alnum = (n: number) => 'aB3xQ9mZ7kLp2Rt8Wv5Yc1Nd6Hs4Gf0J'.repeat(Math.ceil(n / 32)).slice(0, n);

/** One realistic sample per kind the hold reports. */
const SAMPLES: [kind: string, sample: string][] = [
  ['private key', `-----BEGIN ${'RSA '}PRIVATE KEY-----\nMIIEowIBAAKCAQEA${alnum(40)}`],
  ['private key', `-----BEGIN ${'OPENSSH '}PRIVATE KEY-----`],
  ['private key', `-----BEGIN ${''}PRIVATE KEY-----`],
  ['private key', `-----BEGIN PGP PRIVATE KEY ${'BLOCK'}-----`],
  ['AWS access key', `AKIA${'IOSFODNN7EXAMPLE'}`],
  ['GitHub token', `ghp_${alnum(36)}`],
  ['GitHub token', `github_pat_${alnum(22)}_${alnum(59)}`],
  ['GitLab token', `glpat-${alnum(20)}`],
  ['Slack token', `xoxb-${'1234567890'}-${alnum(24)}`],
  ['Stripe secret key', `sk_${'live'}_${alnum(24)}`],
  ['Anthropic API key', `sk-ant-api03-${alnum(40)}`],
  ['OpenAI API key', `sk-proj-${alnum(48)}`],
  ['Google API key', `AIza${alnum(35)}`],
  ['JSON web token', `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.${alnum(43)}`],
  ['mailgate token', `mgt_${alnum(40)}`],
  ['webhook secret', `whsec_${alnum(32)}`],
  ['password or secret assignment', 'password: Tr0ub4dor&3xyzzy'],
  ['password or secret assignment', 'API_KEY="q8Z2mN5vB7xC1kL9"'],
  ['password or secret assignment', 'client_secret = abcdEFGH1234ijkl'],
];

const policy = resolvePolicy(undefined, PolicySettings.parse({}));
const draft = (d: Partial<Draft>): Draft => ({
  mailbox: 'agent@own.test',
  recipients: ['ann@partner.test'],
  subject: 'Hello',
  text: 'Hi',
  html: null,
  attachments: [],
  threadParticipants: null,
  ...d,
});
const found = (d: Partial<Draft>) =>
  checkPolicy(policy, draft(d), EMPTY_FACTS(0)).flatMap((h) => (h.details?.found ?? []) as { where: string; kind: string }[]);

describe('each kind is found, in each place a draft carries text', () => {
  const PLACES: [where: string, place: (s: string) => Partial<Draft>][] = [
    ['subject', (s) => ({ subject: `Fwd: ${s.split('\n')[0]!}` })],
    ['text', (s) => ({ text: `Hi Ann,\n\nhere it is:\n${s}\n\nCheers` })],
    ['html', (s) => ({ text: null, html: `<p>here it is: <code>${s}</code></p>` })],
    ['attachment creds.txt', (s) => ({ attachments: [{ filename: 'creds.txt', content_type: 'text/plain', size: s.length, secrets: findSecrets(`${s}\n`) }] })],
  ];
  const rows = SAMPLES.flatMap(([kind, sample]) => PLACES.map(([where, place]) => [kind, where, sample, place] as const));

  it.each(rows)('%s in the %s', (kind, where, sample, place) => {
    const hits = checkPolicy(policy, draft(place(sample)), EMPTY_FACTS(0));
    expect(hits.map((h) => h.code)).toEqual(['hold_secret']);
    expect(hits[0]!.effect).toBe('hold');
    expect(found(place(sample))).toContainEqual({ where, kind });
  });

  it('the reason says what and where but never copies the secret into the audit trail', () => {
    const key = `AKIA${'IOSFODNN7EXAMPLE'}`;
    const [hit] = checkPolicy(policy, draft({ text: `use ${key}` }), EMPTY_FACTS(0));
    expect(hit!.reason).toMatch(/AWS access key in text/);
    expect(JSON.stringify(hit)).not.toContain(key);
  });

  // Regression (fixed): src/gate/policy/secrets.ts findSecrets (line 25) scans only the first 2,000,000 characters, and
  // src/services/send.ts textOf (line 157) decodes only the first 2 MB of a text attachment, while the default
  // max_attachment_bytes is 10 MB. A key placed after 2 MB of padding in a .txt attachment (or a 2 MB html body
  // tail) is never scanned, so an injected agent can exfiltrate it past the secrets hold in autonomous mode.
  // The patterns are linear (see the ReDoS block below), so scanning the whole allowed size is affordable.
  it('a private key after 2 MB of padding in a text attachment is still found', () => {
    const text = `${'lorem ipsum '.repeat(200_000)}\n${SAMPLES[0]![1]}`;
    expect(found({ attachments: [{ filename: 'log.txt', content_type: 'text/plain', size: text.length, secrets: findSecrets(text) }] })).toContainEqual({
      where: 'attachment log.txt',
      kind: 'private key',
    });
  });

  it('turned off, nothing is held', () => {
    const off = resolvePolicy({ content_holds: { secrets: false } }, undefined);
    expect(checkPolicy(off, draft({ text: SAMPLES[0]![1] }), EMPTY_FACTS(0))).toEqual([]);
  });
});

describe('key and credential files are held by name, whatever their bytes', () => {
  const binary = (filename: string) => ({ attachments: [{ filename, content_type: 'application/octet-stream', size: 1700 }] });

  it.each(['id_rsa', 'id_ed25519', 'ID_ECDSA', 'server.pem', 'tls.key', 'cert.p12', 'store.pfx', 'app.keystore', 'java.jks', '.env', '.env.production'])(
    '%s',
    (filename) => {
      expect(found(binary(filename))).toEqual([{ where: `attachment ${filename}`, kind: 'key or credentials file' }]);
    },
  );

  it.each(['id_rsa.pub', 'report.pdf', 'keynote.txt', 'pem.txt', 'environment.md', 'notes.env.md', 'monkey.png'])('%s is not', (filename) => {
    expect(found(binary(filename))).toEqual([]);
  });
});

describe('ordinary prose and near-misses are not secrets', () => {
  it.each([
    'AKIA',
    `AKIA${'1234'}`,
    `AKIA${'IOSFODNN7EXAMPL'} (one short)`,
    'password: short',
    'password: hunter2',
    'my password is Tr0ub4dor&3xyzzy',
    'Please rotate the API key before Friday; the secret is safe with the team.',
    'The secret to good soup is patience and time.',
    'Our access token policy: rotate every 90 days.',
    'sk-learn is a library',
    'The risk-management-framework-for-enterprise-2025 document',
    'ghp_short',
    'eyJhbGciOi alone',
    '-----BEGIN PUBLIC KEY-----',
    '-----BEGIN CERTIFICATE-----',
    'xoxb-short',
    'whsec_tooshort',
    'Call me at +1 555 0100, reference AB12CD34EF56GH78.',
    'mgt_ is the token prefix',
  ])('%s', (text) => {
    expect(findSecrets(text)).toEqual([]);
    expect(checkPolicy(policy, draft({ subject: text.slice(0, 60), text, html: `<p>${text}</p>` }), EMPTY_FACTS(0))).toEqual([]);
  });
});

describe('no pattern backtracks on 1 MB of attacker-chosen text', () => {
  const MB = 1 << 20;
  const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
  // Each is a long run that keeps one pattern's prefix or character class matching and then fails it.
  const ADVERSARIAL: [string, string][] = [
    ['PEM armour, never closed', fill('-----BEGIN RSA PRIVATE KEY---- ')],
    ['AKIA repeated', fill('AKIA')],
    ['AKIA one short, repeated', fill(`AKIA${'IOSFODNN7EXAMPL'} `)],
    ['ghp_ then 1 MB of letters', `ghp_${fill('a')}`],
    ['github_pat_ repeated', fill('github_pat_')],
    ['glpat- repeated', fill('glpat-')],
    ['xoxb- repeated', fill('xoxb-')],
    ['sk_live_ repeated', fill('sk_live_')],
    ['sk-ant- repeated', fill('sk-ant-')],
    ['sk- then 1 MB of dashes', `sk-${fill('-')}`],
    ['AIza repeated', fill('AIza')],
    ['eyJ repeated', fill('eyJ')],
    ['JWT with an endless payload', `eyJ${alnum(12)}.eyJ${fill('a')}`],
    ['mgt_ repeated', fill('mgt_')],
    ['whsec_ then 1 MB of plus signs', `whsec_${fill('+')}`],
    ['password then 1 MB of spaces', `password${fill(' ')}`],
    ['password: then 1 MB of spaces', `password:${fill(' ')}`],
    ['password=11 chars repeated', fill(`password=${alnum(11)} `)],
    ['api-key: repeated', fill('api-key:')],
    ['1 MB of one letter', fill('a')],
    ['1 MB of spaces', fill(' ')],
  ];
  const time = (fn: () => unknown) => {
    const t = performance.now();
    fn();
    return performance.now() - t;
  };
  const best = (n: number, fn: () => unknown) => Math.min(...Array.from({ length: n }, () => time(fn)));

  it.each(ADVERSARIAL)('%s: within 1000x a trivial regex over the same string', (_, s) => {
    // A trivial regex still reads every character; a linear pattern set costs a small multiple of it, a
    // backtracking one costs n^2 (about a million times more on 1 MB).
    const trivial = best(5, () => /\bzq\d{5}\b/.test(s));
    const scan = best(2, () => findSecrets(s));
    expect(scan, `findSecrets took ${scan.toFixed(1)} ms, the trivial regex ${trivial.toFixed(2)} ms`).toBeLessThan(Math.max(trivial, 0.05) * 1000);
  });
});
