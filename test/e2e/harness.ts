/**
 * End-to-end harness: spawns the built CLI as shipped (the bundle, dist/bundle/mailgate.js) as real processes. MCP servers are driven
 * through the SDK's own stdio client; one-shot CLI commands through child_process. Every spawned process is
 * tracked so a test file can stop them all in afterAll, and stopping one checks that its pid is really gone.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type CallToolResult, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = 'dist/bundle/mailgate.js';

/** `npm test` builds first; a bare `vitest run` on a fresh checkout needs `npm run build` once. */
export function assertBuilt(): void {
  if (!existsSync(join(ROOT, CLI))) throw new Error(`${CLI} is missing: run 'npm run build' (or 'npm test', which builds) first`);
}

/** The parent's environment minus anything that would point a child at another config or database. */
export function childEnv(home: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MAILGATE_')) env[k] = v;
  return { ...env, HOME: home, ...extra };
}

export interface ServerHandle {
  client: Client;
  pid: number;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}

export interface ServeOptions {
  role: 'agent' | 'reviewer' | 'operator';
  db: string;
  home: string;
  config?: string;
  clientName?: string;
  /** Extra environment for the server process (delivery tuning, log level). */
  env?: Record<string, string>;
  /** The SDK's per-request timeout; raise it for calls that may block (mail_wait). */
  requestTimeoutMs?: number;
}

const live = new Set<ServerHandle>();

export async function startServer(o: ServeOptions): Promise<ServerHandle> {
  const args = [CLI, 'serve', '--role', o.role, '--db', o.db, ...(o.config ? ['--config', o.config] : [])];
  const transport = new StdioClientTransport({ command: process.execPath, args, cwd: ROOT, stderr: 'pipe', env: childEnv(o.home, o.env) });
  let err = '';
  transport.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
  const client = new Client({ name: o.clientName ?? `e2e-${o.role}`, version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    await client.close().catch(() => undefined);
    throw new Error(`mailgate serve --role ${o.role} did not start: ${String(e)}\nstderr:\n${err}`);
  }
  const pid = transport.pid!;
  const handle: ServerHandle = {
    client,
    pid,
    stderr: () => err,
    call: async (name, a = {}) =>
      (await client.callTool({ name, arguments: a }, undefined, o.requestTimeoutMs ? { timeout: o.requestTimeoutMs } : undefined)) as CallToolResult,
    async close() {
      live.delete(handle);
      await client.close();
      await waitFor(() => !isAlive(pid), 5000, `server pid ${pid} still running after close`);
    },
  };
  live.add(handle);
  return handle;
}

/** Closes every server this file started; call from afterAll. */
export async function closeAll(): Promise<void> {
  await Promise.all([...live].map((h) => h.close()));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `mailgate ARGS` to completion (killed after timeoutMs). stdin is closed at once. */
export function runCli(args: string[], o: { home: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: childEnv(o.home, o.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 15_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** The structured result of a successful call; fails with the call's text when it was an error. */
export function ok<T = Record<string, unknown>>(r: CallToolResult): T {
  if (r.isError) throw new Error(`expected success, got error: ${textOf(r)}`);
  return r.structuredContent as T;
}

export function textOf(r: CallToolResult): string {
  return r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

/**
 * Plays the person's client for URL elicitation: accepts every prompt, and resolves with the first URL it is
 * asked to open (the one-time approval link). The client must advertise `elicitation: { url: {} }`.
 */
export function nextApprovalLink(client: Client): Promise<string> {
  return new Promise((resolve) => {
    client.setRequestHandler(ElicitRequestSchema, (req) => {
      if (req.params.mode === 'url') resolve(req.params.url);
      return { action: 'accept' };
    });
  });
}

/** Opens an approval link as the person's browser would: the page (with its strict headers) and its CSRF token. */
export async function openApprovalPage(link: string): Promise<{ html: string; csrf: string }> {
  const page = await fetch(link);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
  expect(page.headers.get('x-frame-options')).toBe('DENY');
  expect(page.headers.get('referrer-policy')).toBe('no-referrer');
  const html = await page.text();
  return { html, csrf: /name="csrf" value="([0-9a-f]{64})"/.exec(html)![1]! };
}

export function writeConfig(path: string, config: unknown): string {
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The negative of waitFor: checks that `check` stays true for the whole window, failing at the first moment it
 * does not. For claims that something does NOT happen (no duplicate, no retry, nothing sent while held), where
 * no event marks the end: the window is the claim, so it is named by the caller and kept short.
 */
export async function holdsFor(check: () => boolean | Promise<boolean>, windowMs: number, what: string): Promise<void> {
  const end = Date.now() + windowMs;
  for (;;) {
    if (!(await check())) throw new Error(`no longer true: ${what}`);
    if (Date.now() >= end) return;
    await sleep(Math.min(20, end - Date.now()));
  }
}

/** Polls get_message until the status is one of `want`; returns the last detail. */
export async function waitForStatus(s: ServerHandle, message_id: string, want: string[], timeoutMs = 10_000): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await waitFor(
    async () => {
      last = ok(await s.call('get_message', { message_id }));
      return want.includes(String(last.status));
    },
    timeoutMs,
    `message ${message_id} to reach ${want.join('|')} (last: ${String(last.status)})`,
  );
  return last;
}

export interface InboxEmail {
  email_id: string;
  from: string;
  subject: string;
}

export async function inbox(s: ServerHandle, mailbox: string, limit = 100): Promise<InboxEmail[]> {
  return ok<{ emails: InboxEmail[] }>(await s.call('check_inbox', { mailbox, limit })).emails;
}

/** A stack frame line ("    at fn (file:1:2)") or SQL text: neither may reach a client. */
export const STACK_LINE = /^\s*at\s+\S+.*(:\d+:\d+\)?|\(native\)|<anonymous>)\s*$/m;
export const SQL_TEXT = /\b(SELECT|INSERT|UPDATE|DELETE)\b[\s\S]*\b(FROM|INTO|SET|WHERE)\b|SQLITE_|sqlite|better-sqlite3|\bCREATE TABLE\b/;
