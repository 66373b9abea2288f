/**
 * The two servers of the peer bench, spawned alike: mailgate (`dist/bundle/mailgate.js serve`, the shipped bundle) and the peer
 * `@codefuturist/email-mcp`, each a child `node` process driven over stdio by the same SDK client, so the
 * pid we read VmHWM from is the server itself (no npx wrapper). The peer is installed into a git-ignored
 * bench folder (never package.json) and configured through its own TOML file under a private XDG home.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOOPBACK, type MailServers, type MailUser } from './real-mail.js';
import { msSince, now } from './stats.js';

export const PEER_PACKAGE = '@codefuturist/email-mcp';
export const PEER_VERSION = '0.2.0';
/** The peer's account name in its TOML (its tools take `account`). */
export const PEER_ACCOUNT = 'bench';
const MAILGATE_MAIN = fileURLToPath(new URL('../bundle/mailgate.js', import.meta.url));

/**
 * Installs the peer into `folder` unless that exact version is already there (a cached earlier run), and
 * returns its entry point. It declares engines node>=22 but runs on Node 20, hence --engine-strict=false.
 */
export function ensurePeer(folder: string): string {
  const pkg = join(folder, 'node_modules', PEER_PACKAGE, 'package.json');
  const installed = existsSync(pkg) ? (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version : undefined;
  if (installed !== PEER_VERSION) {
    process.stderr.write(`bench: installing ${PEER_PACKAGE}@${PEER_VERSION} into ${folder} (cached for later runs) ...\n`);
    mkdirSync(folder, { recursive: true });
    // A manifest of its own keeps the install (and its lockfile) apart from mailgate's dependencies.
    writeFileSync(join(folder, 'package.json'), `${JSON.stringify({ private: true, dependencies: { [PEER_PACKAGE]: PEER_VERSION } }, null, 2)}\n`);
    execFileSync('npm', ['install', '--prefix', folder, '--engine-strict=false', '--no-audit', '--no-fund', '--loglevel=error'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  const main = join(folder, 'node_modules', PEER_PACKAGE, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${PEER_PACKAGE}@${PEER_VERSION} installed into ${folder} but ${main} is missing; delete ${folder} and run again`);
  return main;
}

/**
 * The peer's home: $XDG_CONFIG_HOME/email-mcp/config.toml naming one account on the private servers, plaintext
 * on 127.0.0.1 (tls and starttls off). Its send rate limit (10 a minute by default) is lifted as mailgate's
 * policy is in BENCH_POLICY; the watcher and new-mail hooks stay off (mailgate's IDLE watcher is part of
 * `serve`, but the peer's watcher only feeds notifications, not its tools). Returns the environment to add.
 */
export function writePeerHome(home: string, mail: MailServers, u: MailUser): Record<string, string> {
  const q = (s: string) => JSON.stringify(s); // a JSON string is a valid TOML basic string for these values
  const server = (port: number) => [`host = ${q(LOOPBACK)}`, `port = ${port}`, 'tls = false', 'starttls = false', 'verify_ssl = false'];
  const toml = [
    '[settings]',
    'rate_limit = 1000000',
    '[settings.watcher]',
    'enabled = false',
    '[settings.hooks]',
    'on_new_email = "none"',
    '',
    '[[accounts]]',
    `name = ${q(PEER_ACCOUNT)}`,
    `email = ${q(u.address)}`,
    `username = ${q(u.user)}`,
    `password = ${q(u.password)}`,
    '[accounts.imap]',
    ...server(mail.imap.port),
    '[accounts.smtp]',
    ...server(mail.smtp.port),
    '',
  ].join('\n');
  const env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_STATE_HOME: join(home, 'state'),
  };
  mkdirSync(join(env.XDG_CONFIG_HOME, 'email-mcp'), { recursive: true, mode: 0o700 });
  writeFileSync(join(env.XDG_CONFIG_HOME, 'email-mcp', 'config.toml'), toml, { mode: 0o600 });
  return env;
}

export type SideName = 'peer' | 'mailgate';

/** How to start one side; `db` is called per spawn so every mailgate process can get a fresh database. */
export interface SideSpec {
  name: SideName;
  args: () => string[];
  env: Record<string, string>;
  /** Tools it must list: a missing one fails the bench at once rather than on the first call. */
  tools: string[];
}

export function peerSpec(main: string, env: Record<string, string>): SideSpec {
  return { name: 'peer', args: () => [main, 'stdio'], env, tools: ['list_emails', 'search_emails', 'get_email', 'send_email'] };
}

export function mailgateSpec(config: string, db: () => string): SideSpec {
  return {
    name: 'mailgate',
    args: () => [MAILGATE_MAIN, 'serve', '--role', 'agent', '--db', db(), '--config', config],
    env: {},
    tools: ['check_inbox', 'search_email', 'read_email', 'send_email'],
  };
}

interface CallResult {
  text: string;
  structured: Record<string, unknown> | undefined;
}

export interface Spawned {
  /** Spawn to the server's answer to tools/list reaching this process, in ms: the server's cold start. */
  startupMs: number;
  /**
   * The SDK client's own handling of that answer, in ms, before listTools() resolves: parsing it and compiling a
   * validator for each tool's output schema (the client's cost, reported apart from the server's).
   */
  clientListMs: number;
  pid: number;
  call(name: string, args: Record<string, unknown>): Promise<CallResult>;
  /** Peak resident set size so far (VmHWM), in MiB. */
  peakRssMiB(): number;
  close(): Promise<void>;
}

export async function spawnSide(spec: SideSpec): Promise<Spawned> {
  const start = now();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: spec.args(),
    stderr: 'pipe',
    env: { ...getDefaultEnvironment(), ...spec.env },
  });
  // The tail of the server's log for error reports; draining it also keeps the pipe from filling.
  let stderrTail = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString()).slice(-3000);
  });
  const client = new Client({ name: 'mailgate-peer-bench', version: '0.1.0' });
  await client.connect(transport);
  // The moment the answer arrives, before the client works on it: connect() has set the transport's handler.
  let answeredMs: number | undefined;
  const deliver = transport.onmessage;
  transport.onmessage = (message) => {
    const result = 'result' in message ? (message.result as { tools?: unknown }) : undefined;
    if (answeredMs === undefined && Array.isArray(result?.tools)) answeredMs = msSince(start);
    deliver?.(message);
  };
  const { tools } = await client.listTools();
  const listedMs = msSince(start);
  if (answeredMs === undefined) throw new Error(`${spec.name}: the tools/list answer was not seen on the transport`);
  const startupMs = answeredMs;
  const pid = transport.pid;
  if (pid === null) throw new Error(`${spec.name}: no server pid after start`);
  for (const t of spec.tools) {
    if (!tools.some((x) => x.name === t)) throw new Error(`${spec.name} does not list ${t}; listed: ${tools.map((x) => x.name).join(', ')}`);
  }
  return {
    startupMs,
    clientListMs: listedMs - answeredMs,
    pid,
    async call(name, args) {
      const r = await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 });
      const text = ((r.content as { text?: string }[] | undefined) ?? []).map((c) => c.text ?? '').join('\n');
      if (r.isError) throw new Error(`${spec.name} ${name} failed: ${text}\nserver stderr tail:\n${stderrTail}`);
      return { text, structured: r.structuredContent as Record<string, unknown> | undefined };
    },
    peakRssMiB() {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (!m) throw new Error(`${spec.name}: no VmHWM in /proc/${pid}/status`);
      return Number(m[1]) / 1024;
    },
    async close() {
      // A server busy syncing may not exit on stdin EOF at once: give it a moment, then make sure it is gone.
      await Promise.race([client.close(), new Promise((r) => setTimeout(r, 3_000).unref())]);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already exited
      }
    },
  };
}
