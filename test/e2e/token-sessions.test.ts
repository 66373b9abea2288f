/**
 * Spawned `mailgate serve` processes bound to tokens (MAILGATE_TOKEN), and a combined agent,reviewer session
 * whose client cannot ask the person: it gets the exact CLI command, and running that command approves.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, childEnv, CLI, nextApprovalLink, ok, openApprovalPage, ROOT, runCli, textOf } from './harness.js';

const tmp = tempDir('mailgate-e2e-token-sessions-');
const db = tmp.file('sessions.db');
const home = tmp.path;
const open: Client[] = [];
const mg = (args: string[]) => runCli([...args, '--db', db], { home });

interface Served {
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  tools(): Promise<string[]>;
}

/** `mailgate serve [args] --db DB` with MAILGATE_TOKEN set (or not), driven by the SDK's stdio client. */
async function serve(token: string | undefined, args: string[] = [], capabilities: ClientCapabilities = {}): Promise<Served> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', ...args, '--db', db],
    cwd: ROOT,
    stderr: 'pipe',
    env: childEnv(home, token ? { MAILGATE_TOKEN: token } : {}),
  });
  const client = new Client({ name: 'e2e-client', version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  open.push(client);
  return {
    client,
    call: async (name, a = {}) => (await client.callTool({ name, arguments: a })) as CallToolResult,
    tools: async () => (await client.listTools()).tools.map((t) => t.name).sort(),
  };
}

async function token(name: string, role: string): Promise<string> {
  const r = await mg(['token', 'create', '--role', role, '--name', name, '--json', '--all-mailboxes']);
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

interface Event {
  seq: number;
  action: string;
  actor: string;
  message_id: string | null;
  detail: Record<string, unknown>;
}
async function audit(): Promise<Event[]> {
  return (JSON.parse((await mg(['audit', '--json', '--limit', '100000'])).stdout) as { events: Event[] }).events;
}

let n = 0;
async function draft(s: Served): Promise<string> {
  const r = ok<{ status: string; message_id: string }>(
    await s.call('send_email', {
      mailbox: 'agent@mailgate.test',
      to: 'you@mailgate.test',
      subject: `Token draft ${++n}`,
      text: `Body ${n}`,
    }),
  );
  expect(r.status).toBe('pending');
  return r.message_id;
}

beforeAll(() => assertBuilt());
afterAll(async () => {
  for (const c of open) await c.close();
  tmp.cleanup();
});

describe('a server bound to a token', { timeout: 90_000 }, () => {
  it('agent token: no review or operator tool is listed, calling one is refused, and every event of the session names token:NAME', async () => {
    const secret = await token('alice-agent', 'agent');
    const before = (await audit()).at(-1)?.seq ?? 0;
    const s = await serve(secret);
    const tools = await s.tools();
    expect(tools).toContain('send_email');
    for (const t of ['queue_approve', 'decide_email', 'queue_reject', 'get_audit', 'update_mailbox', 'create_mailbox']) expect(tools).not.toContain(t);
    const id = await draft(s);
    for (const [name, a] of [
      ['queue_approve', { message_id: id }],
      ['decide_email', { message_id: id, action: 'approve' }],
      ['update_mailbox', { address: 'agent@mailgate.test', oversight_mode: 'autonomous', change_reason: 'me' }],
    ] as const) {
      const r = await s.call(name, a);
      expect(r.isError, name).toBe(true);
    }
    ok(await s.call('check_inbox', { mailbox: 'you@mailgate.test' }));
    ok(await s.call('cancel_message', { message_id: id }));
    const session = (await audit()).filter((e) => e.seq > before && !e.actor.startsWith('system:'));
    expect(session.map((e) => e.action)).toEqual(expect.arrayContaining(['message.held', 'message.cancelled']));
    for (const e of session) expect(e.actor, e.action).toBe('token:alice-agent/e2e-client');
    const listed = JSON.parse((await mg(['token', 'list', '--json'])).stdout) as { tokens: { name: string; last_used_at: string | null }[] };
    expect(listed.tokens.find((t) => t.name === 'alice-agent')!.last_used_at).not.toBeNull();
  });

  it('reviewer token: cannot send (send tools not listed, refused by name) but can approve', async () => {
    const drafter = await serve(await token('drafter', 'agent'));
    const id = await draft(drafter);
    const s = await serve(await token('rita', 'reviewer'));
    const tools = await s.tools();
    for (const t of ['send_email', 'reply_email', 'tag_email', 'cancel_message']) expect(tools).not.toContain(t);
    const r = await s.call('send_email', { mailbox: 'agent@mailgate.test', to: 'x@example.com', subject: 'no', text: 'no' });
    expect(r.isError).toBe(true);
    expect(ok<{ status: string }>(await s.call('queue_approve', { message_id: id })).status).toBe('sent');
    const approved = (await audit()).find((e) => e.message_id === id && e.action === 'message.approved')!;
    expect(approved).toMatchObject({ actor: 'token:rita/e2e-client', detail: { confirmation: 'reviewer_session' } });
  });

  it('a token revoked while its session runs is refused at the next call', async () => {
    const s = await serve(await token('short-lived', 'agent'));
    ok(await s.call('check_inbox', { mailbox: 'you@mailgate.test' }));
    expect((await mg(['token', 'revoke', 'short-lived'])).code).toBe(0);
    const r = await s.call('check_inbox', { mailbox: 'you@mailgate.test' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/^UNAUTHENTICATED: the token 'short-lived' was revoked/);
  });
});

describe('a combined agent,reviewer session whose client cannot ask the person', { timeout: 90_000 }, () => {
  it('gets the exact CLI command instead of an approval, and that command approves (recorded as cli)', async () => {
    const s = await serve(undefined, ['--role', 'agent,reviewer']);
    expect(await s.tools()).toEqual(expect.arrayContaining(['send_email', 'queue_approve']));
    const id = await draft(s);
    const r = await s.call('queue_approve', { message_id: id });
    expect(r.isError).toBe(true);
    const command = /the person runs: (mailgate approve .+)$/.exec(textOf(r))?.[1];
    expect(command).toBe(`mailgate approve ${id} --db ${db}`);
    expect(ok<{ status: string }>(await s.call('get_message', { message_id: id })).status).toBe('pending');

    const run = await runCli(command!.split(' ').slice(1), { home });
    expect(run.stderr).not.toContain('mailgate:');
    expect(run.code).toBe(0);
    const events = (await audit()).filter((e) => e.message_id === id);
    expect(events.find((e) => e.action === 'message.approved')!.detail).toMatchObject({ confirmation: 'cli' });
    expect(events.map((e) => e.actor)).toContain('mcp:agent+reviewer/e2e-client');
  });
});

describe('a token holding agent and reviewer, in a client with URL elicitation', { timeout: 90_000 }, () => {
  it('approves only when the person presses Approve on the link the server serves on 127.0.0.1', async () => {
    const s = await serve(await token('desk', 'agent,reviewer'), [], { elicitation: { url: {} } });
    const link = await approveByLink(s);
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\//);
    // Its own port: nothing else is served there.
    expect((await fetch(new URL('/login', link))).status).toBe(404);
  });

  it("with --dashboard, the link is on the dashboard's port, beside its pages", async () => {
    const s = await serve(await token('desk-dash', 'agent,reviewer'), ['--dashboard'], { elicitation: { url: {} } });
    const link = await approveByLink(s, 'desk-dash');
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\//);
    const login = await fetch(new URL('/login', link));
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('Sign in to review mail');
  });
});

/** Drafts, asks to approve, and plays the person: opens the link it is given and presses Approve. */
async function approveByLink(s: Served, tokenName = 'desk'): Promise<string> {
  const url = nextApprovalLink(s.client);
  const id = await draft(s);
  const call = s.call('queue_approve', { message_id: id });
  const link = await url;
  const { html, csrf } = await openApprovalPage(link);
  expect(html).toContain(`Token draft ${n}`);
  expect((await fetch(link, { method: 'POST', body: new URLSearchParams({ csrf }) })).status).toBe(200);
  expect(ok<{ status: string }>(await call).status).toBe('sent');
  const approved = (await audit()).find((e) => e.message_id === id && e.action === 'message.approved')!;
  expect(approved).toMatchObject({ actor: `token:${tokenName}/e2e-client`, detail: { confirmation: 'elicitation_url' } });
  return link;
}
