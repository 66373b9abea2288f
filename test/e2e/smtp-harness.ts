/**
 * Spawned `mailgate serve` processes for real-SMTP delivery tests: a mailbox whose SMTP is the in-process
 * fake server (test/helpers/fake-smtp.ts) and whose IMAP is a closed port (save_sent off, so delivery never
 * needs it), started with extra environment (fault points, delivery tuning), and the messages table read
 * straight from the SQLite file.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js';
import { tempDir } from '../helpers/tmp.js';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { CLI, ROOT, assertBuilt, childEnv, isAlive, waitFor } from './harness.js';

/** dist must contain the fault points and be no older than the delivery code it was built from. */
export function assertFreshBuild(): void {
  assertBuilt();
  for (const f of ['src/faults', 'src/services/deliver', 'src/mail/smtp', 'src/domain/sqlite-store', 'src/app']) {
    const js = join(ROOT, 'dist', `${f}.js`);
    if (!existsSync(js) || statSync(js).mtimeMs < statSync(join(ROOT, `${f}.ts`)).mtimeMs) {
      throw new Error(`dist/${f}.js is missing or older than ${f}.ts: run 'npx tsc -p .' (npm test builds) first`);
    }
  }
}

/** A port nothing listens on. */
export async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function smtpMailbox(address: string, smtp: FakeSmtp, imapPort: number, mode = 'autonomous') {
  const creds = { user: smtp.user, password: smtp.password };
  return {
    address,
    display_name: 'Delivery Test',
    oversight_mode: mode,
    imap: { host: '127.0.0.1', port: imapPort, ...creds, save_sent: false, heartbeat_seconds: 60 },
    smtp: { host: '127.0.0.1', port: smtp.port, ...creds, starttls: false, timeout_seconds: 2 },
  };
}

export interface Proc {
  client: Client;
  pid: number;
  stderr(): string;
  call(name: string, args: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}
const live = new Set<Proc>();

export async function serve(o: { config: string; db: string; home: string; role?: string; env?: Record<string, string> }): Promise<Proc> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'serve', '--role', o.role ?? 'agent', '--config', o.config, '--db', o.db],
    cwd: ROOT,
    stderr: 'pipe',
    env: childEnv(o.home, o.env),
  });
  let err = '';
  transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const client = new Client({ name: 'e2e-smtp', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (e) {
    throw new Error(`mailgate serve did not start: ${String(e)}\nstderr:\n${err}`);
  }
  const pid = transport.pid!;
  const proc: Proc = {
    client,
    pid,
    stderr: () => err,
    call: async (name, args) => (await client.callTool({ name, arguments: args }, undefined, { timeout: 20_000 })) as CallToolResult,
    async close() {
      live.delete(proc);
      await client.close().catch(() => undefined);
      await waitFor(() => !isAlive(pid), 5000, `pid ${pid} to exit`);
    },
  };
  live.add(proc);
  return proc;
}

export async function closeAllProcs(): Promise<void> {
  await Promise.all([...live].map((p) => p.close()));
}

export interface Row {
  message_id: string;
  message_id_header: string;
  mailbox: string;
  status: string;
  attempts: number;
  transmitting_at: number | null;
  lease_until: number | null;
  last_error: string | null;
}

export function rows(db: string): Row[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn
      .prepare(`SELECT message_id, message_id_header, mailbox, status, attempts, transmitting_at, lease_until, last_error
                         FROM messages ORDER BY created_at, message_id`)
      .all() as Row[];
  } finally {
    conn.close();
  }
}

/**
 * The file-wide setup of a CLI-and-serve test against the fake SMTP server: a fresh build, a scratch home, the
 * server (its script reset before each test) and a closed port for the IMAP side. Fields are set in beforeAll.
 */
export function useFakeSmtpSuite(prefix: string): { tmp: ReturnType<typeof tempDir>; fake: FakeSmtp; closedPort: number } {
  const tmp = tempDir(prefix);
  const suite = { tmp, closedPort: 0 } as { tmp: ReturnType<typeof tempDir>; fake: FakeSmtp; closedPort: number };
  beforeAll(async () => {
    assertFreshBuild();
    suite.fake = await startFakeSmtp();
    suite.closedPort = await unusedPort();
  });
  beforeEach(() => suite.fake.reset());
  afterAll(async () => {
    await closeAllProcs();
    await suite.fake?.stop();
    tmp.cleanup();
  });
  return suite;
}
