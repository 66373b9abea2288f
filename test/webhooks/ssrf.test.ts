/**
 * Webhook URLs that point into the network mailgate runs in are refused where an operator registers them: the
 * config file (loaded as `mailgate` loads it) and `mailgate webhook add` (the built CLI, spawned). Every
 * spelling the WHATWG URL parser turns into a forbidden address is judged as that address.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { MailgateError } from '../../src/errors.js';
import { assertBuilt, runCli, writeConfig } from '../e2e/harness.js';
import { tempDir } from '../helpers/tmp.js';
import { MAILBOXES, SHORT_TTL, secret } from './helpers.js';

const dir = tempDir('mailgate-webhook-ssrf-');
afterAll(() => dir.cleanup());
const SECRET = secret();
let n = 0;

/** Loads a config holding one endpoint; the problems it was refused with, or [] when accepted. */
function register(entry: Record<string, unknown>): string[] {
  const path = dir.file(`c${++n}.json`);
  writeFileSync(path, JSON.stringify({ mailboxes: MAILBOXES, testing: SHORT_TTL, webhooks: [{ secret: SECRET, ...entry }] }));
  try {
    loadConfig({ config: path, db: dir.file('unused.db') }, {});
    return [];
  } catch (err) {
    expect((err as MailgateError).code).toBe('CONFIG_INVALID');
    return (err as MailgateError).details.problems as string[];
  }
}

/** [URL, what the refusal must name]: refused without allow_private_network, allowed with it. */
const PRIVATE: [string, RegExp][] = [
  ['http://127.0.0.1/hook', /127\.0\.0\.1 \(loopback\)/],
  ['http://127.1.2.3:8080/hook', /127\.1\.2\.3 \(loopback\)/],
  ['http://localhost/hook', /localhost \(this host: loopback\)/],
  ['http://LOCALHOST./hook', /localhost \(this host: loopback\)/],
  ['http://api.localhost/hook', /api\.localhost \(this host: loopback\)/],
  ['http://[::1]/hook', /::1 \(loopback\)/],
  ['http://2130706433/hook', /127\.0\.0\.1 \(loopback\)/], // decimal
  ['http://0x7f000001/hook', /127\.0\.0\.1 \(loopback\)/], // hex
  ['http://0x7f.1/hook', /127\.0\.0\.1 \(loopback\)/], // hex, shortened
  ['http://0177.0.0.1/hook', /127\.0\.0\.1 \(loopback\)/], // octal
  ['http://127.1/hook', /127\.0\.0\.1 \(loopback\)/], // shortened
  ['http://%31%32%37.0.0.1/hook', /127\.0\.0\.1 \(loopback\)/], // percent-encoded
  ['http://127.0.0.1./hook', /127\.0\.0\.1 \(loopback\)/], // trailing dot
  ['http://10.0.0.7:8080/hook', /10\.0\.0\.7 \(a private network/],
  ['http://172.16.5.4/hook', /172\.16\.5\.4 \(a private network/],
  ['http://192.168.1.1/hook', /192\.168\.1\.1 \(a private network/],
  ['http://0xc0.0xa8.1.1/hook', /192\.168\.1\.1 \(a private network/],
  ['http://169.254.1.1/hook', /169\.254\.1\.1 \(link-local\)/],
  ['http://[fe80::1]/hook', /fe80::1 \(link-local\)/],
  ['http://100.64.0.1/hook', /100\.64\.0\.1 \(carrier-grade NAT\)/],
  ['http://[fc00::5]/hook', /fc00::5 \(a unique-local network\)/],
  ['http://[fd12:3456::1]/hook', /fd12:3456::1 \(a unique-local network\)/],
  ['http://[::ffff:127.0.0.1]/hook', /::ffff:7f00:1 embeds 127\.0\.0\.1 \(loopback\)/], // IPv4-mapped
  ['http://[::ffff:7f00:1]/hook', /embeds 127\.0\.0\.1 \(loopback\)/],
  ['http://[::ffff:10.1.2.3]/hook', /embeds 10\.1\.2\.3 \(a private network/],
  ['http://[::127.0.0.1]/hook', /embeds 127\.0\.0\.1 \(loopback\)/], // IPv4-compatible
  ['http://[64:ff9b::7f00:1]/hook', /embeds 127\.0\.0\.1 \(loopback\)/], // NAT64
  ['http://[2002:c0a8:101::1]/hook', /embeds 192\.168\.1\.1 \(a private network/], // 6to4
  ['http://198.18.0.1/hook', /198\.18\.0\.1 \(special-purpose range benchmarking|198\.18\.0\.1 \(a reserved range\)/],
  ['http://240.0.0.1/hook', /240\.0\.0\.1 \(a reserved range\)/],
];

/** Refused even with allow_private_network: never a receiver. */
const NEVER: [string, RegExp][] = [
  ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 \(a cloud metadata service\)/],
  ['http://[fd00:ec2::254]/latest/', /fd00:ec2::254 \(a cloud metadata service\)/],
  ['http://[::ffff:169.254.169.254]/', /embeds 169\.254\.169\.254 \(a cloud metadata service\)/],
  ['http://2852039166/latest/', /169\.254\.169\.254 \(a cloud metadata service\)/], // decimal metadata
  ['http://metadata.google.internal/computeMetadata/v1/', /metadata\.google\.internal \(a cloud metadata service\)/],
  ['http://0.0.0.0:8080/hook', /0\.0\.0\.0 \(the unspecified address\)/],
  ['http://0/hook', /0\.0\.0\.0 \(the unspecified address\)/],
  ['http://[::]/hook', /:: \(the unspecified address\)/],
  ['http://224.0.0.1/hook', /224\.0\.0\.1 \(multicast\)/],
  ['http://[ff02::1]/hook', /ff02::1 \(multicast\)/],
  ['http://255.255.255.255/hook', /255\.255\.255\.255 \(broadcast\)/],
];

describe('registration: the config file', () => {
  it(`refuses ${PRIVATE.length + NEVER.length} hostile URLs (without allow_private_network), naming the address and the fix`, () => {
    expect(PRIVATE.length + NEVER.length).toBeGreaterThanOrEqual(25);
    for (const [url, why] of [...PRIVATE, ...NEVER]) {
      const text = register({ url }).join('\n');
      expect(text, url).toMatch(/webhooks\[0\]\.url: the URL points at /);
      expect(text, url).toMatch(why);
    }
    for (const [url] of PRIVATE) expect(register({ url }).join('\n'), url).toMatch(/allow_private_network: true/);
  });

  it('allows the private ones with allow_private_network: true, and never the metadata, unspecified, multicast or broadcast ones', () => {
    for (const [url] of PRIVATE) expect(register({ url, allow_private_network: true }), url).toEqual([]);
    for (const [url, why] of NEVER) {
      const text = register({ url, allow_private_network: true }).join('\n');
      expect(text, url).toMatch(why);
      expect(text, url).toMatch(/where webhooks are never sent/);
    }
  });

  it('accepts public addresses and names (a name is judged by what it resolves to, at delivery)', () => {
    for (const url of [
      'https://hooks.example.com/mailgate',
      'https://93.184.215.14/x',
      'http://[2606:4700::1111]/x',
      'http://[::ffff:8.8.8.8]/x',
      'https://localhost.example.com/x',
      'http://127.0.0.1.nip.io/x',
    ]) {
      expect(register({ url }), url).toEqual([]);
    }
  });

  it('refuses a non-boolean allow_private_network', () => {
    expect(register({ url: 'https://hooks.example.com/x', allow_private_network: 'yes' }).join('\n')).toMatch(/allow_private_network must be true or false/);
  });
});

describe('registration: mailgate webhook add', () => {
  const home = dir.path;
  const db = dir.file('cli.db');
  let config: string;
  beforeAll(() => {
    assertBuilt();
    config = writeConfig(dir.file('cli.json'), { mailboxes: MAILBOXES, testing: SHORT_TTL });
  });
  const cli = (...args: string[]) => runCli([...args, '--db', db, '--config', config], { home, env: { MAILGATE_LOG_LEVEL: 'warn' } });

  it.concurrent.each([
    ['http://127.0.0.1:9/hook', /127\.0\.0\.1 \(loopback\); webhooks go only to public addresses unless .*--allow-private-network/],
    ['http://0x7f.1/hook', /127\.0\.0\.1 \(loopback\)/],
    ['http://[::ffff:7f00:1]/hook', /embeds 127\.0\.0\.1 \(loopback\)/],
    ['http://169.254.169.254/latest/meta-data/', /a cloud metadata service/],
    ['http://192.168.0.10/hook', /a private network/],
  ])('refuses %s with INVALID_INPUT naming URL, and adds nothing', async (url, why) => {
    const r = await cli('webhook', 'add', url);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/INVALID_INPUT: URL: the URL points at /);
    expect(r.stderr).toMatch(why);
  });

  it('adds a loopback receiver only with --allow-private-network, and still refuses the metadata service with it', async () => {
    const meta = await cli('webhook', 'add', 'http://169.254.169.254/', '--allow-private-network');
    expect(meta.code).toBe(2);
    expect(meta.stderr).toMatch(/a cloud metadata service\), where webhooks are never sent/);
    const ok = await cli('webhook', 'add', 'http://127.0.0.1:9/local', '--allow-private-network', '--json');
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ url: 'http://127.0.0.1:9/local', allow_private_network: true });
    const listed = JSON.parse((await cli('webhook', 'list', '--json')).stdout) as { webhooks: { url: string; allow_private_network: boolean }[] };
    expect(listed.webhooks.map((w) => [w.url, w.allow_private_network])).toEqual([['http://127.0.0.1:9/local', true]]);
  });
});
