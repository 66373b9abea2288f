/**
 * `mailgate serve` launched by an MCP client with a config that does not load (issue 12): rather than exit,
 * which the client shows only as "Connection closed", it finishes the handshake over stdio with one tool,
 * setup_problem, whose result names the unset password variable and the client's `env` block. Driven through
 * the SDK's own stdio client; the other account's password never appears in anything the client or stderr gets.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CallToolResult, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, childEnv, CLI, isAlive, ROOT, textOf, waitFor, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-setup-problem-');
const OTHER_SECRET = 'Other-Account-Pw-1729';
let config = '';

const side = (auth: Record<string, string>) => ({ host: '127.0.0.1', port: 1143, secure: false, user: 'u', ...auth });

beforeAll(() => {
  assertBuilt();
  config = writeConfig(tmp.file('config.json'), {
    mailboxes: [
      { address: 'ok@example.com', oversight_mode: 'gated_send', imap: side({ password: OTHER_SECRET }), smtp: side({ password: OTHER_SECRET }) },
      { address: 'support@example.com', oversight_mode: 'gated_send', imap: side({ password_env: 'SUPPORT_IMAP_PW' }), smtp: side({ password: 'x' }) },
    ],
  });
});
afterAll(() => tmp.cleanup());

describe('serve with a config that does not load, launched by an MCP client', () => {
  it('connects, lists only setup_problem, and its call names the variable and the env block', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve', '--config', config, '--db', tmp.file('never.db')],
      cwd: ROOT,
      stderr: 'pipe',
      env: childEnv(tmp.path),
    });
    let stderr = '';
    transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const client = new Client({ name: 'setup-problem-e2e', version: '1.0.0' });
    const logged: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(String(n.params.data)));
    await client.connect(transport);
    const pid = transport.pid!;
    try {
      const instructions = client.getInstructions() ?? '';
      expect(instructions).toContain('environment variable SUPPORT_IMAP_PW is not set');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['setup_problem']);
      expect(tools[0]!.annotations?.readOnlyHint).toBe(true);
      const r = (await client.callTool({ name: 'setup_problem', arguments: {} })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/^CONFIG_INVALID: /);
      expect(textOf(r)).toContain('mailboxes[1] (support@example.com).imap.password_env: environment variable SUPPORT_IMAP_PW is not set');
      expect(textOf(r)).toContain('add "env": { "SUPPORT_IMAP_PW": "..." } to mailgate\'s entry');
      expect(textOf(r)).toContain('claude_desktop_config.json');
      await waitFor(() => logged.some((l) => l.includes('SUPPORT_IMAP_PW')), 5000, 'the problem as a logging notification');
      // The person's copy: stderr, as at a terminal.
      expect(stderr).toContain('mailgate: CONFIG_INVALID: invalid configuration');
      expect(stderr).toContain('SUPPORT_IMAP_PW');
      const everything = `${instructions}\n${JSON.stringify(tools)}\n${textOf(r)}\n${logged.join('\n')}\n${stderr}`;
      expect(everything).not.toContain(OTHER_SECRET);
    } finally {
      await client.close();
    }
    // It opened no database: nothing but the problem was served.
    await waitFor(() => !isAlive(pid), 5000, 'the setup-problem server to exit when the client closes');
    expect(existsSync(tmp.file('never.db'))).toBe(false);
  });

  it('exits 2, with nothing but the problem on stderr, when the client closes its input', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--config', config, '--db', tmp.file('never2.db')], {
      cwd: ROOT,
      env: childEnv(tmp.path),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const init = { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } };
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: init })}\n`);
    await waitFor(() => stdout.includes('"id":1'), 10_000, 'the initialize answer');
    child.stdin.end();
    expect(await exited).toBe(2);
    expect(stderr).toContain('mailgate: CONFIG_INVALID');
    expect(stderr).not.toMatch(/Maximum call stack|RangeError|PromiseRejectCallback/);
    expect(stderr.length).toBeLessThan(4000);
  });
});
