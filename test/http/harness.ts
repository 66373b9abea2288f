/**
 * HTTP harness: spawns `mailgate serve --http --port 0` (the built CLI) on 127.0.0.1, reads the bound URL from
 * its stderr, and connects the SDK's own HTTP clients with a bearer token. Raw requests go through node:http
 * so tests can set any Host, Origin or body.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll } from 'vitest';
import { assertBuilt, childEnv, CLI, isAlive, ROOT, runCli, waitFor } from '../e2e/harness.js';
import { tempDir } from '../helpers/tmp.js';

export interface HttpServer {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  pid: number;
  stderr(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const running = new Set<HttpServer>();

export async function startHttpServer(o: { db: string; home: string; args?: string[]; env?: Record<string, string> }): Promise<HttpServer> {
  const child: ChildProcess = spawn(process.execPath, [CLI, 'serve', '--http', '--port', '0', '--db', o.db, ...(o.args ?? [])], {
    cwd: ROOT,
    env: { ...childEnv(o.home), ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let out = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let url = '';
  await waitFor(
    () => {
      url = /MCP \(Streamable HTTP\): (http:\/\/\S+)\/mcp/.exec(err)?.[1] ?? '';
      if (child.exitCode !== null) throw new Error(`serve --http exited with ${child.exitCode}:\n${err}`);
      return url !== '';
    },
    15_000,
    `serve --http to print its URL; stderr so far:\n${err}`,
  );
  const server: HttpServer = {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    stderr: () => err,
    async stop(signal = 'SIGTERM') {
      running.delete(server);
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      await waitFor(() => !isAlive(child.pid!), 5000, `http server pid ${child.pid} still running`);
      if (out) throw new Error(`serve --http wrote to stdout: ${out}`);
      return code;
    },
  };
  running.add(server);
  return server;
}

export async function stopAllHttp(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

export interface HttpFixture {
  db: string;
  home: string;
  server: HttpServer;
  /** Token secrets by name. */
  tokens: Record<string, string>;
}

/**
 * For a test file: a temp database with these tokens (name -> roles), and a server on it started in beforeAll
 * and stopped (with every other one the file started) in afterAll.
 */
export function useHttpServer(name: string, tokens: Record<string, string>, args: string[] = []): HttpFixture {
  const tmp = tempDir(`mailgate-http-${name}-`);
  const f = { db: tmp.file(`${name}.db`), home: tmp.path, tokens: {} } as HttpFixture;
  beforeAll(async () => {
    assertBuilt();
    for (const [n, roles] of Object.entries(tokens)) f.tokens[n] = await createToken(f.db, f.home, n, roles);
    f.server = await startHttpServer({ db: f.db, home: f.home, args });
  });
  afterAll(async () => {
    await stopAllHttp();
    tmp.cleanup();
  });
  return f;
}

/** `mailgate token create --json` against db; returns the secret. */
export async function createToken(db: string, home: string, name: string, roles: string): Promise<string> {
  const r = await runCli(['token', 'create', '--role', roles, '--name', name, '--json', '--db', db, '--all-mailboxes'], { home });
  if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

export interface HttpSession {
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  tools(): Promise<string[]>;
  close(): Promise<void>;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export async function connect(
  kind: 'streamable' | 'sse',
  baseUrl: string,
  token: string,
  clientName = `http-${kind}`,
  capabilities: ClientCapabilities = {},
): Promise<HttpSession> {
  const headers = bearer(token);
  const transport =
    kind === 'streamable'
      ? new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers } })
      : new SSEClientTransport(new URL(`${baseUrl}/sse`), {
          requestInit: { headers },
          eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) },
        });
  const client = new Client({ name: clientName, version: '1.0.0' }, { capabilities });
  await client.connect(transport);
  return {
    client,
    call: async (name, a = {}) => (await client.callTool({ name, arguments: a }, undefined, { timeout: 30_000 })) as CallToolResult,
    tools: async () => (await client.listTools()).tools.map((t) => t.name).sort(),
    async close() {
      if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (node:http sets Host to 127.0.0.1:PORT unless given). */
export function raw(port: number, o: { method?: string; path?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: o.method ?? 'POST', path: o.path ?? '/mcp', headers: o.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

export const INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** Headers a Streamable HTTP POST needs (spec 2025-11-25: Accept both JSON and SSE). */
export function mcpHeaders(token?: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...(token ? bearer(token) : {}), ...extra };
}
