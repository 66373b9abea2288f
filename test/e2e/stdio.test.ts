/**
 * stdout belongs to the transport: a raw `mailgate serve` process, fed JSON-RPC lines by hand (valid, invalid
 * and garbage), must write nothing to stdout but JSON-RPC 2.0 messages, log to stderr only, and keep serving.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, childEnv, CLI, isAlive, ROOT, SQL_TEXT, STACK_LINE, waitFor } from './harness.js';

const tmp = tempDir('mailgate-e2e-stdio-');
let child: ChildProcessWithoutNullStreams;
let stdout = '';
let stderr = '';

type Rpc = { jsonrpc?: unknown; id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } };

const lines = () => stdout.split('\n').filter((l) => l.length > 0);
const parsed = () => lines().map((l) => JSON.parse(l) as Rpc);
const send = (line: string) => child.stdin.write(`${line}\n`);
const request = (id: number, method: string, params: unknown) => send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));

async function response(id: number): Promise<Rpc> {
  let found: Rpc | undefined;
  await waitFor(
    () => {
      try {
        found = parsed().find((m) => m.id === id);
      } catch {
        return true; // a non-JSON line; the purity test reports it
      }
      return found !== undefined;
    },
    10_000,
    `a response to request ${id}; stdout so far:\n${stdout}\nstderr:\n${stderr}`,
  );
  if (!found) throw new Error(`stdout is not pure JSON:\n${stdout}`);
  return found;
}

beforeAll(() => {
  assertBuilt();
  child = spawn(process.execPath, [CLI, 'serve', '--role', 'agent', '--db', tmp.file('stdio.db')], {
    cwd: ROOT,
    env: childEnv(tmp.path),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
});

afterAll(async () => {
  if (child.exitCode === null) {
    child.stdin.end();
    await waitFor(() => child.exitCode !== null, 5000, 'serve to exit when stdin closes').catch(() => child.kill('SIGKILL'));
  }
  tmp.cleanup();
});

describe('mailgate serve on raw stdio', () => {
  it('answers initialize, survives bad input and garbage, and answers the next request', async () => {
    request(1, 'initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw-e2e', version: '1.0.0' } });
    const init = await response(1);
    expect(init.result?.serverInfo).toMatchObject({ name: 'mailgate' });
    send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));

    // Bad input: an invalid address, a subject with a line break (header injection) and an unknown key.
    request(2, 'tools/call', {
      name: 'send_email',
      arguments: { mailbox: 'agent@mailgate.test', to: 'not an address', subject: 'a\r\nBcc: x@evil.test', text: 'x', surprise: 1 },
    });
    const bad = await response(2);
    const badResult = bad.result as { isError?: boolean; content: { text: string }[] } | undefined;
    expect(bad.error ?? badResult?.isError).toBeTruthy();

    send('this is not json {{{');
    send('{"jsonrpc":"2.0","id":');
    send(JSON.stringify({ hello: 'world' }));
    request(3, 'no/such/method', {});
    const unknown = await response(3);
    expect(unknown.error?.code).toBe(-32601);

    request(4, 'tools/call', {
      name: 'send_email',
      arguments: { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'after garbage', text: 'still here' },
    });
    const good = await response(4);
    expect((good.result as { structuredContent: { status: string } }).structuredContent.status).toBe('pending');
    request(5, 'tools/list', {});
    expect(((await response(5)).result as { tools: unknown[] }).tools.length).toBeGreaterThan(5);
    expect(child.exitCode).toBeNull();
    expect(isAlive(child.pid!)).toBe(true);
  });

  it('wrote only JSON-RPC 2.0 messages to stdout', () => {
    expect(lines().length).toBeGreaterThanOrEqual(5);
    for (const line of lines()) {
      let msg: Rpc;
      try {
        msg = JSON.parse(line) as Rpc;
      } catch {
        throw new Error(`stdout line is not JSON: ${line}`);
      }
      expect(msg.jsonrpc, line).toBe('2.0');
      expect('result' in msg || 'error' in msg || 'method' in msg, line).toBe(true);
    }
    // No log line slipped onto stdout.
    expect(stdout).not.toMatch(/"level"\s*:/);
  });

  it('logs structured lines on stderr only', () => {
    const logLines = stderr.split('\n').filter((l) => l.trim().length > 0);
    expect(logLines.length).toBeGreaterThan(0);
    const logs = logLines.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(logs.map((l) => l.msg)).toContain('mailgate serving MCP on stdio');
    for (const l of logs) expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
  });

  it('reported the bad input without a stack trace or SQL text', () => {
    const bad = parsed().find((m) => m.id === 2)!;
    const text = JSON.stringify(bad);
    expect(text).not.toMatch(STACK_LINE);
    expect(text).not.toMatch(/\\n\s+at /);
    expect(text).not.toMatch(SQL_TEXT);
    // It names the fields at fault, so a model can recover.
    expect(text).toMatch(/to/);
    expect(text).toMatch(/subject|line break/);
  });

  it('exits 0 when stdin closes', async () => {
    child.stdin.end();
    await waitFor(() => child.exitCode !== null, 5000, 'serve to exit after stdin closed');
    expect(child.exitCode).toBe(0);
  });

  it('a second server exits 0 promptly on SIGTERM', async () => {
    const other = spawn(process.execPath, [CLI, 'serve', '--role', 'reviewer', '--db', tmp.file('stdio.db')], {
      cwd: ROOT,
      env: childEnv(tmp.path),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    other.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    try {
      await waitFor(() => err.includes('serving MCP on stdio'), 10_000, 'the reviewer server to start');
      other.kill('SIGTERM');
      await waitFor(() => other.exitCode !== null, 5000, 'serve to exit on SIGTERM');
      expect(other.exitCode).toBe(0);
      expect(err).toContain('"why":"SIGTERM"');
    } finally {
      if (other.exitCode === null) other.kill('SIGKILL');
    }
  });
});
