/**
 * The real path an agent takes: `mailgate serve` spawned as a child process, driven by the SDK's stdio client.
 * The server gets the SDK's default (minimal) environment, so a MAILGATE_CONFIG in the caller's shell does not
 * change what is measured: the built-in sandbox config applies.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fileURLToPath } from 'node:url';
import { msSince, now } from './stats.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface Served {
  /** Spawn to initialize-complete, in ms. */
  startupMs: number;
  call(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Bytes of one full tool result as JSON (text content plus structuredContent), for the report. */
  resultBytes(name: string, args: Record<string, unknown>): Promise<number>;
  close(): Promise<void>;
}

export async function serveOverStdio(db: string, role = 'agent'): Promise<Served> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'serve', '--role', role, '--db', db], stderr: 'pipe' });
  // Keep the tail of the server's stderr log for error reports; draining it also keeps the pipe from filling.
  let stderrTail = '';
  transport.stderr?.on('data', (chunk: Buffer) => { stderrTail = (stderrTail + chunk.toString()).slice(-4000); });
  const client = new Client({ name: 'mailgate-bench', version: '0.1.0' });
  const start = now();
  await client.connect(transport);
  const startupMs = msSince(start);
  // As a real agent does first; it also makes the SDK validate every result against the tool's output schema.
  const { tools } = await client.listTools();
  for (const t of ['send_email', 'list_pending']) {
    if (!tools.some((x) => x.name === t)) throw new Error(`role ${role} does not list ${t}; listed: ${tools.map((x) => x.name).join(', ')}`);
  }
  return {
    startupMs,
    async call(name, args) {
      const r = await client.callTool({ name, arguments: args });
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
