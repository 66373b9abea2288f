/**
 * `mailgate webhook add | list | remove | secret` as an operator runs them (the built CLI, spawned): a
 * generated secret is shown once at `add`, never by `list`; bad input names its flag; removal is audited; an
 * endpoint from the config file can only be removed there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, runCli, writeConfig } from '../e2e/harness.js';
import { tempDir } from '../helpers/tmp.js';
import { GATED, MAILBOXES, SHORT_TTL, secret } from './helpers.js';

const tmp = tempDir('mailgate-webhook-cli-');
const home = tmp.path;
const db = tmp.file('cli.db');
const CONFIG_SECRET = secret();
let config: string;

beforeAll(() => {
  assertBuilt();
  config = writeConfig(tmp.file('cli.json'), {
    mailboxes: MAILBOXES,
    testing: SHORT_TTL,
    webhooks: [{ url: 'https://hooks.example.com/from-config', secret: CONFIG_SECRET }],
  });
});
afterAll(() => tmp.cleanup());

const cli = (...args: string[]) => runCli([...args, '--db', db, '--config', config], { home, env: { MAILGATE_LOG_LEVEL: 'warn' } });
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, any>;
};

describe('mailgate webhook', () => {
  it('secret: prints a fresh whsec_ secret, without needing a database', async () => {
    const r = await runCli(['webhook', 'secret'], { home });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  });

  it('add, list, remove: the secret is shown once, listings never show one, removal is audited', async () => {
    const added = await json(
      'webhook',
      'add',
      'https://hooks.example.com/ops?token=abc',
      '--events',
      'email.pending,email.rejected',
      '--mailbox',
      GATED,
      '--as',
      'ops-alice',
    );
    expect(added).toMatchObject({
      endpoint_id: expect.stringMatching(/^wh_/),
      url: 'https://hooks.example.com/ops?…',
      events: ['email.pending', 'email.rejected'],
      mailbox: GATED,
      source: 'operator',
      state: 'active',
    });
    expect(added.secret).toMatch(/^whsec_/);

    const given = secret();
    const plain = await cli('webhook', 'add', 'https://127.0.0.1:9/given', '--secret', given, '--allow-private-network');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^added wh_\S+: https:\/\/127\.0\.0\.1:9\/given \(events: all; mailbox: all; private network allowed\)\n$/);

    const [listed, table] = await Promise.all([cli('webhook', 'list', '--json'), cli('webhook', 'list')]);
    for (const out of [listed.stdout, table.stdout]) {
      for (const s of [added.secret as string, given, CONFIG_SECRET]) expect(out).not.toContain(s.slice(6, 20));
      expect(out).not.toContain('token=abc');
    }
    expect(JSON.parse(listed.stdout).webhooks.map((w: { source: string }) => w.source)).toEqual(['config', 'operator', 'operator']);

    const removed = await json('webhook', 'remove', added.endpoint_id, '--reason', 'receiver retired', '--as', 'ops-alice');
    expect(removed).toMatchObject({ endpoint_id: added.endpoint_id, state: 'removed' });
    const audit = (await json('audit', '--limit', '1000')).events as { action: string; actor: string; detail: Record<string, unknown> }[];
    expect(audit.filter((e) => e.action === 'webhook.removed')).toEqual([
      expect.objectContaining({ actor: 'cli:ops-alice', detail: expect.objectContaining({ endpoint_id: added.endpoint_id, reason: 'receiver retired' }) }),
    ]);
    expect(JSON.stringify(audit)).not.toContain((added.secret as string).slice(6));
  });

  // Independent refusals, so they run side by side (each is a process start).
  it.concurrent.each([
    [['webhook', 'add', 'ftp://127.0.0.1/x'], 2, /INVALID_INPUT: URL: the URL must be http or https/],
    [['webhook', 'add', 'https://hooks.example.com/x', '--events', 'email.opened'], 2, /INVALID_INPUT: --events: unknown event/],
    [['webhook', 'add', 'https://hooks.example.com/x', '--secret', 'hunter2'], 2, /INVALID_INPUT: --secret: a webhook secret starts with 'whsec_'/],
    [['webhook', 'add', 'https://hooks.example.com/x', '--mailbox', 'nobody@mailgate.test'], 1, /UNKNOWN_MAILBOX: unknown mailbox 'nobody@mailgate\.test'/],
    [['webhook', 'remove', 'wh_nope'], 2, /no active webhook endpoint 'wh_nope'/],
    [['webhook', 'frobnicate'], 2, /unknown subcommand 'frobnicate'/],
  ] as const)('refuses %j with a message naming what is wrong', async (args, code, want) => {
    const r = await cli(...args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(want);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('an endpoint from the config file is removed in the file, not by the CLI', async () => {
    const fromConfig = (await json('webhook', 'list')).webhooks.find((w: { source: string }) => w.source === 'config');
    const r = await cli('webhook', 'remove', fromConfig.endpoint_id);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/comes from the config file; remove it there/);
  });
});
