/**
 * Tokens and sessions bound to mailboxes, through the built CLI and spawned servers: `token create` needs the
 * binding said out loud, `serve --mailbox` narrows and never widens, a bound token over stdio and over
 * Streamable HTTP cannot reach another mailbox, every refusal is audited, and flags a command does not take
 * are refused rather than ignored.
 */
import { existsSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { connect, startHttpServer, stopAllHttp } from '../http/harness.js';
import { assertBuilt, childEnv, CLI, ok, ROOT, runCli, textOf, writeConfig } from './harness.js';

const SUPPORT = 'support@acme.test';
const CEO = 'ceo@acme.test';
const tmp = tempDir('mailgate-e2e-scope-');
const db = tmp.file('scope.db');
const home = tmp.path;
const config = writeConfig(tmp.file('mailgate.json'), {
  mailboxes: [
    { address: SUPPORT, oversight_mode: 'gated_send' },
    { address: CEO, oversight_mode: 'autonomous' },
  ],
});
const mg = (args: string[]) => runCli([...args, '--db', db, '--config', config], { home });
const open: Client[] = [];

async function token(name: string, role: string, scope: string[]): Promise<{ token: string; mailboxes: unknown }> {
  const r = await mg(['token', 'create', '--role', role, '--name', name, '--json', ...scope]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as { token: string; mailboxes: unknown };
}

/** A spawned stdio server; resolves to the client, or rejects with the server's stderr when it exits at start. */
async function serve(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ client: Client; call(n: string, a: Record<string, unknown>): Promise<CallToolResult> }> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', ...args, '--db', db, '--config', config],
    cwd: ROOT,
    stderr: 'pipe',
    env: childEnv(home, env),
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'scope-e2e', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch {
    await client.close().catch(() => undefined);
    throw new Error(err);
  }
  open.push(client);
  return { client, call: async (name, a) => (await client.callTool({ name, arguments: a })) as CallToolResult };
}

interface Event {
  action: string;
  actor: string;
  mailbox: string | null;
  detail: Record<string, unknown>;
}
async function denials(): Promise<Event[]> {
  const r = await mg(['audit', '--json', '--limit', '100000']);
  return (JSON.parse(r.stdout) as { events: Event[] }).events.filter((e) => e.action === 'authz.denied');
}

const SEND_AS_CEO = { mailbox: CEO, to: 'bank@example.com', subject: 'Wire the money', text: 'Today please' };

beforeAll(() => assertBuilt());
afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await stopAllHttp();
  tmp.cleanup();
});

describe('token create binds mailboxes, and says so', { timeout: 90_000 }, () => {
  it('refuses a token without --mailbox or --all-mailboxes, an unknown mailbox, and both at once', async () => {
    const none = await mg(['token', 'create', '--role', 'agent', '--name', 'nobody-said']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--mailbox: say which mailboxes .*--all-mailboxes/);
    const unknown = await mg(['token', 'create', '--role', 'agent', '--name', 'typo', '--mailbox', 'suport@acme.test']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/UNKNOWN_MAILBOX: unknown mailbox 'suport@acme.test'/);
    const both = await mg(['token', 'create', '--role', 'agent', '--name', 'both', '--mailbox', SUPPORT, '--all-mailboxes']);
    expect(both.stderr).toMatch(/--all-mailboxes: give either --mailbox/);
    const list = JSON.parse((await mg(['token', 'list', '--json'])).stdout) as { tokens: { name: string }[] };
    expect(list.tokens.map((t) => t.name)).not.toEqual(expect.arrayContaining(['nobody-said', 'typo', 'both']));
  });

  it('records the binding, and token list shows it', async () => {
    expect((await token('support-agent', 'agent', ['--mailbox', SUPPORT])).mailboxes).toEqual([SUPPORT]);
    expect((await token('two', 'reviewer', ['--mailbox', SUPPORT, '--mailbox', CEO.toUpperCase()])).mailboxes).toEqual([SUPPORT, CEO]);
    expect((await token('everything', 'reviewer', ['--all-mailboxes'])).mailboxes).toBe('all');
    const list = JSON.parse((await mg(['token', 'list', '--json'])).stdout) as { tokens: { name: string; mailboxes: unknown }[] };
    expect(Object.fromEntries(list.tokens.map((t) => [t.name, t.mailboxes]))).toMatchObject({
      'support-agent': [SUPPORT],
      two: [SUPPORT, CEO],
      everything: 'all',
    });
    expect((await mg(['token', 'list'])).stdout).toMatch(/support-agent\s+agent\s+support@acme\.test/);
  });
});

describe('flags a command does not take are refused', { timeout: 90_000 }, () => {
  it('names the flag and the command, and changes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['token', 'list', '--mailbox', SUPPORT], /--mailbox: 'mailgate token list' does not take --mailbox/],
      [['pending', '--note', 'x'], /--note: 'mailgate pending' does not take --note/],
      [['mailbox', 'list', '--role', 'agent'], /--role: 'mailgate mailbox list' does not take --role/],
      [['pending', '--mailbox', SUPPORT, '--mailbox', CEO], /--mailbox: given 2 times; 'mailgate pending' takes it once/],
      [['serve', '--http', '--mailbox', SUPPORT], /--mailbox is for stdio/],
    ];
    for (const [args, message] of cases) {
      const r = await mg(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
  });

  it('an unknown command is refused before any database is created', async () => {
    const fresh = tmp.file('never-made.db');
    const r = await runCli(['frobnicate', '--db', fresh], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(existsSync(fresh)).toBe(false);
  });
});

describe('a session bound to support@', { timeout: 90_000 }, () => {
  it('over stdio with a bound token: cannot send as ceo@, names only support@, and is audited', async () => {
    const { token: secret } = await token('stdio-support', 'agent', ['--mailbox', SUPPORT]);
    const s = await serve({ MAILGATE_TOKEN: secret });
    expect(s.client.getInstructions()).toContain(SUPPORT);
    expect(s.client.getInstructions()).not.toContain(CEO);
    const r = await s.call('send_email', SEND_AS_CEO);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toBe(`UNKNOWN_MAILBOX: mailbox: unknown mailbox '${CEO}'; known mailboxes: ${SUPPORT}`);
    expect(ok<{ status: string }>(await s.call('send_email', { ...SEND_AS_CEO, mailbox: SUPPORT })).status).toBe('pending');
    const denied = (await denials()).filter((e) => e.actor.startsWith('token:stdio-support'));
    expect(denied).toEqual([expect.objectContaining({ mailbox: CEO, detail: expect.objectContaining({ via: 'send_email', target: CEO }) })]);
    const captured = JSON.parse((await mg(['captured', '--json'])).stdout) as { captured: { subject: string }[] };
    expect(captured.captured.map((c) => c.subject)).not.toContain('Wire the money');
  });

  it('--mailbox narrows a token but never widens it, and must name a mailbox that exists', async () => {
    const { token: secret } = await token('narrow-me', 'agent', ['--mailbox', SUPPORT]);
    await expect(serve({ MAILGATE_TOKEN: secret }, ['--mailbox', CEO])).rejects.toThrow(
      /--mailbox asks for ceo@acme\.test, which the token 'narrow-me' is not bound to/,
    );
    await expect(serve({}, ['--role', 'agent', '--mailbox', 'nobody@acme.test'])).rejects.toThrow(/UNKNOWN_MAILBOX/);
    const { token: wide } = await token('wide', 'agent', ['--all-mailboxes']);
    const narrowed = await serve({ MAILGATE_TOKEN: wide }, ['--mailbox', SUPPORT]);
    expect((await narrowed.call('send_email', SEND_AS_CEO)).isError).toBe(true);
  });

  it('serve --role agent --mailbox support@ (no token) narrows a local session the same way', async () => {
    const s = await serve({}, ['--role', 'agent', '--mailbox', SUPPORT]);
    const r = await s.call('check_inbox', { mailbox: CEO });
    expect(textOf(r)).toMatch(/^UNKNOWN_MAILBOX: .*known mailboxes: support@acme\.test$/);
  });

  it('over Streamable HTTP with a bound token: the same refusals', async () => {
    const { token: secret } = await token('http-support', 'agent,reviewer', ['--mailbox', SUPPORT]);
    const server = await startHttpServer({ db, home, args: ['--config', config] });
    const s = await connect('streamable', server.url, secret, 'scope-http');
    const r = await s.call('send_email', SEND_AS_CEO);
    expect(textOf(r)).toBe(`UNKNOWN_MAILBOX: mailbox: unknown mailbox '${CEO}'; known mailboxes: ${SUPPORT}`);
    const pending = ok<{ messages: { mailbox: string }[] }>(await s.call('list_pending', {}));
    expect(pending.messages.length).toBeGreaterThan(0);
    expect(pending.messages.every((m) => m.mailbox === SUPPORT)).toBe(true);
    await s.close();
    expect((await denials()).some((e) => e.actor.startsWith('token:http-support') && e.detail.via === 'send_email')).toBe(true);
  });
});
