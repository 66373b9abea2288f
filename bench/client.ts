/**
 * The real path an agent takes: `mailgate serve` spawned as a child process, driven by the SDK's stdio client.
 * The server gets the SDK's default (minimal) environment plus only what the bench passes, so a MAILGATE_CONFIG in
 * the caller's shell does not change what is measured: the built-in sandbox config applies unless a bench gives
 * a config file (the real-mail benches do).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG_INPUT } from '../src/config/schema.js';
import { msSince, now } from './stats.js';

const MAIN = fileURLToPath(new URL('../bundle/mailgate.js', import.meta.url));

/**
 * The global `policy` of every bench config: a bench drafts thousands of messages a minute on one mailbox, which
 * the default loop guards (60 drafts a minute, 1,000 held) exist to refuse. Measured costs are unchanged: the
 * same window counts are read, against a higher limit.
 */
export const BENCH_POLICY = { rate_limits: { per_minute: 1_000_000 }, max_pending: 1_000_000 };

/** The built-in sandbox config (agent@ gated_send, you@ autonomous) with BENCH_POLICY, written to `path`. */
export function sandboxConfig(path: string): string {
  writeFileSync(path, JSON.stringify({ ...DEFAULT_CONFIG_INPUT, policy: BENCH_POLICY }));
  return path;
}

export interface Served {
  /** Spawn to initialize-complete, in ms. */
  startupMs: number;
  call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Bytes of one full tool result as JSON (text content plus structuredContent), for the report. */
  resultBytes(name: string, args: Record<string, unknown>): Promise<number>;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** A config file (real IMAP/SMTP mailboxes); without one the built-in sandbox config applies. */
  config?: string;
  /** Added to the SDK's default environment, e.g. MAILGATE_DELIVERY_POLL_MS. */
  env?: Record<string, string>;
  /** Tools the role must list; a missing one fails the bench at once rather than on the first call. */
  expectTools?: string[];
}

export async function serveOverStdio(db: string, role = 'agent', o: ServeOptions = {}): Promise<Served> {
  const args = [MAIN, 'serve', '--role', role, '--db', db, ...(o.config ? ['--config', o.config] : [])];
  const transport = new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe', env: { ...getDefaultEnvironment(), ...o.env } });
  // Keep the tail of the server's stderr log for error reports; draining it also keeps the pipe from filling.
  let stderrTail = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-4000);
  });
  const client = new Client({ name: 'mailgate-bench', version: '0.1.0' });
  const start = now();
  await client.connect(transport);
  const startupMs = msSince(start);
  // As a real agent does first; it also makes the SDK validate every result against the tool's output schema.
  const { tools } = await client.listTools();
  for (const t of o.expectTools ?? ['send_email', 'list_pending']) {
    if (!tools.some((x) => x.name === t)) throw new Error(`role ${role} does not list ${t}; listed: ${tools.map((x) => x.name).join(', ')}`);
  }
  return {
    startupMs,
    async call(name, args) {
      // mail_wait blocks up to its timeout_seconds (at most 50): give the SDK's per-request timeout room beyond it.
      const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 });
      if (r.isError || !r.structuredContent) {
        const text = (r.content as { text?: string }[] | undefined)?.map((c) => c.text).join(' ') ?? '';
        throw new Error(`${name} failed: ${text}\nserver stderr tail:\n${stderrTail}`);
      }
      return r.structuredContent as Record<string, unknown>;
    },
    resultBytes: async (name, args) => Buffer.byteLength(JSON.stringify(await client.callTool({ name, arguments: args }))),
    close: () => client.close(),
  };
}
