/**
 * Webhook test kit: a real node:http receiver on 127.0.0.1 (a port the OS picks), the `standardwebhooks`
 * package as the independent receiver-side verifier, and a real app on a temp database whose config file
 * holds the endpoints. Nothing here talks to anything but 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type App, type AppOptions, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { SqliteStore } from '../../src/domain/sqlite-store.js';
import type { Principal } from '../../src/services/context.js';
import { newWebhookSecret } from '../../src/webhooks/sign.js';
import { tempDir } from '../helpers/tmp.js';

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received (what the signature covers). */
  body: string;
  json: { type: string; timestamp: string; data: Record<string, any> };
  path: string;
}

/** A status, a status with headers (a redirect), or 'hang': never answer. */
type Reply = number | { status: number; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Answers for the next requests, in order; after them, 200. */
  reply(...replies: Reply[]): void;
  waitFor(n: number, what?: string, timeoutMs?: number): Promise<Received[]>;
  stop(): Promise<void>;
}

const live = new Set<Server>();

/** `delayMs`: how long each answer takes (a slow receiver keeps deliveries leased longer). */
export async function startReceiver(port = 0, opts: { delayMs?: number } = {}): Promise<Receiver> {
  const received: Received[] = [];
  const queue: Reply[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: Received['json'];
      try {
        json = JSON.parse(body) as Received['json'];
      } catch {
        json = { type: '(not json)', timestamp: '', data: {} };
      }
      received.push({
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        headers: req.headers,
        body,
        json,
        path: req.url ?? '',
      });
      const r = queue.shift() ?? 200;
      if (r === 'hang') return;
      const { status, headers } = typeof r === 'number' ? { status: r, headers: {} } : r;
      setTimeout(() => res.writeHead(status, headers).end(status >= 400 ? 'receiver says no' : 'ok'), opts.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  live.add(server);
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hooks`,
    port: actual,
    received,
    reply: (...r) => void queue.push(...r),
    waitFor: (n, what = `${n} webhook request(s)`, timeoutMs = 10_000) => until(() => received.length >= n, what, timeoutMs).then(() => received),
    stop: () =>
      new Promise<void>((resolve) => {
        live.delete(server);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (the OS picked it, then it was released): "receiver down". */
export async function unusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function stopReceivers(): Promise<void> {
  await Promise.all(
    [...live].map(
      (s) =>
        new Promise<void>((r) => {
          s.closeAllConnections();
          s.close(() => r());
        }),
    ),
  );
  live.clear();
}

/** Verifies a request as any Standard Webhooks receiver would; throws when it does not verify. */
export function verify(secret: string, r: { body: string; headers: IncomingHttpHeaders }): unknown {
  return new Webhook(secret).verify(r.body, r.headers as Record<string, string>);
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const AGENT: Principal = { id: 'agent:test', roles: ['agent'], mailboxes: 'all' as const };
export const REVIEWER: Principal = { id: 'reviewer:test', roles: ['reviewer'], mailboxes: 'all' as const };
export const OPERATOR: Principal = { id: 'operator:test', roles: ['operator'], mailboxes: 'all' as const };

export const GATED = 'agent@mailgate.test';
export const AUTO = 'you@mailgate.test';
export const WATCHED = 'watched@mailgate.test';
export const LOCKED = 'locked@mailgate.test';
export const BRIEF = 'brief@mailgate.test';
/** Config `testing` that lets BRIEF's 1s pending_ttl through (the floor is 1h otherwise); every config with MAILBOXES needs it. */
export const SHORT_TTL = { allow_short_ttl: true };
export const MAILBOXES = [
  { address: BRIEF, oversight_mode: 'gated_send', pending_ttl: '1s' },
  { address: GATED, oversight_mode: 'gated_send' },
  { address: AUTO, oversight_mode: 'autonomous' },
  { address: WATCHED, oversight_mode: 'monitored' },
  { address: LOCKED, oversight_mode: 'read_only' },
];

/** Short schedule for tests: polls every 20 ms, first retry after about 20 ms. */
export const FAST = { pollMs: 20, retryBaseMs: 20, timeoutMs: 2000, leaseMs: 5000 };

export const secret = () => newWebhookSecret();

/** The delivery rows, for checking what the outbox recorded. */
export function deliveries(
  app: App,
): { event_id: string; endpoint_id: string; status: string; attempts: number; last_status: number | null; last_error: string | null }[] {
  return (app.store as SqliteStore).db.prepare('SELECT * FROM webhook_deliveries ORDER BY created_at, event_id').all() as never;
}

export interface TestApp {
  app: App;
  dbPath: string;
  configPath: string;
  dir: ReturnType<typeof tempDir>;
  close(): Promise<void>;
}

/**
 * A real app on a fresh database, its config file holding `webhooks`. The receivers listen on 127.0.0.1, so each
 * endpoint allows private networks unless it says otherwise (test/webhooks/ssrf-delivery.test.ts tests the refusal).
 */
export async function startApp(webhooks: unknown[], opts: AppOptions & { dbPath?: string } = {}): Promise<TestApp> {
  const dir = tempDir('mailgate-webhooks-');
  const configPath = dir.file('mailgate.json');
  const local = webhooks.map((w) => ({ allow_private_network: true, ...(w as Record<string, unknown>) }));
  writeFileSync(configPath, JSON.stringify({ mailboxes: MAILBOXES, webhooks: local, testing: SHORT_TTL }));
  const dbPath = opts.dbPath ?? dir.file('mailgate.db');
  const app = await createApp(loadConfig({ config: configPath, db: dbPath }, {}), { webhooks: FAST, worker: { pollMs: 50 }, ...opts });
  return {
    app,
    dbPath,
    configPath,
    dir,
    async close() {
      await app.close();
      dir.cleanup();
    },
  };
}
