/**
 * The attack from issue 9: a session holding agent and operator makes its own gated mailbox autonomous, then
 * sends a credential. Against a spawned `mailgate serve --role agent,operator` (stdio) and `serve --http` with an
 * agent+operator token, through the SDK's own clients: the change is refused with the exact CLI command, the mode
 * stays (as `mailgate mailbox list --json` shows), the send is held, and only the person (the command, or the
 * one-time link) makes the change.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { connect, useHttpServer } from '../http/harness.js';
import { assertBuilt, childEnv, CLI, nextApprovalLink, ok, openApprovalPage, ROOT, runCli, textOf } from './harness.js';

const AWS_KEY = `AKIA${'IOSFODNN7EXAMPLE'}`;
const BOX = 'agent@mailgate.test';

async function modeOf(db: string, home: string): Promise<string> {
  const r = await runCli(['mailbox', 'list', '--json', '--db', db], { home });
  expect(r.code).toBe(0);
  return (JSON.parse(r.stdout) as { mailboxes: { address: string; oversight_mode: string }[] }).mailboxes.find((m) => m.address === BOX)!.oversight_mode;
}

/** The attack: loosen, check nothing changed, and send a credential. Returns the refusal text. */
async function attack(call: (name: string, a: Record<string, unknown>) => Promise<CallToolResult>, db: string, home: string): Promise<string> {
  const r = await call('update_mailbox', { address: BOX, oversight_mode: 'autonomous', change_reason: 'no more waiting' });
  expect(r.isError).toBe(true);
  expect(await modeOf(db, home)).toBe('gated_send');
  const sent = ok<{ status: string }>(await call('send_email', { mailbox: BOX, to: 'someone@example.com', subject: 'keys', text: `aws ${AWS_KEY}` }));
  expect(sent.status).toBe('pending');
  return textOf(r);
}

describe('over stdio: serve --role agent,operator', () => {
  const tmp = tempDir('mailgate-e2e-loosening-');
  const db = tmp.file('loose.db');
  let client: Client;
  beforeAll(async () => {
    assertBuilt();
    client = new Client({ name: 'attacker', version: '1.0.0' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'serve', '--role', 'agent,operator', '--db', db],
        cwd: ROOT,
        stderr: 'pipe',
        env: childEnv(tmp.path),
      }),
    );
  });
  afterAll(async () => {
    await client?.close();
    tmp.cleanup();
  });

  it('is refused with the exact command; the mode stays and the credential is held; the command, run by the person, works', async () => {
    const text = await attack(async (name, a) => (await client.callTool({ name, arguments: a })) as CallToolResult, db, tmp.path);
    const command = `mailgate mailbox update ${BOX} --mode autonomous --reason 'no more waiting' --db ${resolve(db)}`;
    expect(text).toMatch(/^CONFIRMATION_REQUIRED: /);
    expect(text).toContain(command);
    // The person at the terminal runs exactly what they were given.
    const run = await new Promise<{ code: number; out: string }>((done) =>
      execFile('sh', ['-c', command.replace(/^mailgate /, `"${process.execPath}" ${CLI} `)], { cwd: ROOT, env: childEnv(tmp.path) }, (err, stdout, stderr) =>
        done({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(run.code, run.out).toBe(0);
    expect(await modeOf(db, tmp.path)).toBe('autonomous');
    const audit = JSON.parse((await runCli(['audit', '--mailbox', BOX, '--json', '--db', db], { home: tmp.path })).stdout) as {
      events: { action: string; detail: Record<string, unknown> }[];
    };
    expect(audit.events.filter((e) => e.action === 'mailbox.mode_changed').map((e) => e.detail.confirmation)).toEqual(['cli']);
  });
});

describe('over HTTP: a token with agent and operator', () => {
  const f = useHttpServer('loosening', { desk: 'agent,operator' });

  it('is refused with the exact command; the mode stays and the credential is held', async () => {
    const s = await connect('streamable', f.server.url, f.tokens.desk!);
    try {
      const text = await attack(s.call, f.db, f.home);
      expect(text).toMatch(/^CONFIRMATION_REQUIRED: /);
      expect(text).toContain(`mailgate mailbox update ${BOX} --mode autonomous --reason 'no more waiting' --db ${resolve(f.db)}`);
    } finally {
      await s.close();
    }
  });

  it("with URL elicitation, the person confirms on the server's own /approve/ page and the change applies once", async () => {
    const s = await connect('streamable', f.server.url, f.tokens.desk!, 'desk-client', { elicitation: { url: {} } });
    try {
      const link = nextApprovalLink(s.client);
      const call = s.call('update_mailbox', { address: BOX, oversight_mode: 'monitored', change_reason: 'reviewed' });
      const url = await link;
      expect(url.startsWith(`${f.server.url}/approve/`)).toBe(true);
      const { html, csrf } = await openApprovalPage(url);
      expect(html).toContain(`mode gated_send -&gt; monitored on ${BOX}`);
      expect(await modeOf(f.db, f.home)).toBe('gated_send');
      const post = () => fetch(url, { method: 'POST', body: new URLSearchParams({ csrf }), headers: { origin: f.server.url } });
      expect((await post()).status).toBe(200);
      expect(ok<{ oversight_mode: string }>(await call).oversight_mode).toBe('monitored');
      expect((await post()).status).toBe(409);
      expect(await modeOf(f.db, f.home)).toBe('monitored');
    } finally {
      await s.close();
    }
  });
});
