/**
 * Several mailgate instances on one database, in one test process: each a store (or a whole app) of its own, as
 * separate servers would have, on a SQLite file or a private PostgreSQL database (test/helpers/postgres.ts).
 * Waiting is on the store's change signals, never on sleeps: `until` re-checks its condition at each change.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type App, type AppOptions, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/domain/open.js';
import { evaluate } from '../../src/gate/evaluate.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import type { Principal } from '../../src/services/context.js';
import type { ChangeTopic, MessageContent, Store, StoreChange, SubmitResult } from '../../src/store/store.js';
import type { OversightMode } from '../../src/values.js';
import { afterAll, beforeAll } from 'vitest';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

export const AGENT: Principal = { id: 'agent:test', roles: ['agent'], mailboxes: 'all' };
export const REVIEWER: Principal = { id: 'reviewer:test', roles: ['reviewer'], mailboxes: 'all' };

/** Where the instances' shared database is: a fresh SQLite file or a fresh PostgreSQL database per call. */
export interface Backend {
  name: 'sqlite' | 'postgres';
  freshDatabase(): Promise<string>;
}

function sqliteBackend(dir: ReturnType<typeof tempDir>): Backend {
  let n = 0;
  return { name: 'sqlite', freshDatabase: async () => dir.file(`instances-${++n}.db`) };
}

function postgresBackend(cluster: () => Postgres): Backend {
  return { name: 'postgres', freshDatabase: () => cluster().freshDatabase() };
}

/**
 * The backends a test file runs on: SQLite files in a scratch dir, and a private PostgreSQL cluster when its
 * binaries are there (or not at all with `withPostgres` false). Registers the hooks that start the cluster and,
 * after the file, stop it and remove the dir; hooks registered after this one run inside them.
 */
export function useBackends(prefix: string, withPostgres: boolean = requirePostgresOrSkip()) {
  const dir = tempDir(prefix);
  let pg: Postgres | undefined;
  beforeAll(async () => {
    if (withPostgres) pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
    dir.cleanup();
  });
  const cluster = () => pg!;
  const backends: Backend[] = [sqliteBackend(dir), ...(withPostgres ? [postgresBackend(cluster)] : [])];
  return { dir, backends, cluster, hasPostgres: withPostgres };
}

/** A store on `database`, as another instance opens it. */
export function openInstance(database: string): Promise<Store> {
  return openStore(database.startsWith('postgres') ? { kind: 'postgres', url: database, display: 'test' } : { kind: 'sqlite', path: database });
}

/** An app (an instance) on `database` with this config; the environment is left out, so nothing outside the test steers it. */
export async function startInstance(dir: ReturnType<typeof tempDir>, database: string, config: unknown, opts: AppOptions = {}): Promise<App> {
  const path = dir.file(`config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(config));
  return createApp(loadConfig({ db: database, config: path }, {}), opts);
}

/**
 * Resolves once `check` holds, re-checking it now and after every change `store` hears (its own and other
 * instances'); fails after `timeoutMs` with `what`. The bound is the test's claim: no poll brings it sooner.
 */
export function until<T>(store: Store, check: () => Promise<T | undefined | false>, what: string, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let checking = false;
    let again = false;
    const finish = (err: Error | null, value?: T) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      if (err) reject(err);
      else resolve(value as T);
    };
    const look = async () => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      try {
        do {
          again = false;
          const v = await check();
          if (v) return finish(null, v);
        } while (again && !done);
      } catch (err) {
        finish(err as Error);
      } finally {
        checking = false;
      }
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    const off = store.onChange(() => void look());
    void look();
  });
}

/** The next change `store` hears that matches; fails after `timeoutMs`. */
export function nextChange(store: Store, match: (c: StoreChange) => boolean, what: string, timeoutMs = 5000): Promise<StoreChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const off = store.onChange((c) => {
      if (!match(c)) return;
      clearTimeout(timer);
      off();
      resolve(c);
    });
  });
}

/** Every change `store` hears from now on, in order. */
export function recordChanges(store: Store): { seen: StoreChange[]; topics(topic: ChangeTopic): StoreChange[]; stop(): void } {
  const seen: StoreChange[] = [];
  const stop = store.onChange((c) => seen.push(c));
  return { seen, topics: (topic) => seen.filter((c) => c.topic === topic), stop };
}

export async function addSandboxMailbox(store: Store, address: string, mode: OversightMode = 'gated_send', now = Date.now()): Promise<void> {
  await store.createMailbox(
    {
      address,
      display_name: null,
      oversight_mode: mode,
      mode_source: 'test',
      auto_approve_rules: [],
      pending_ttl_seconds: 3600,
      transport: 'sandbox',
      policy: {},
    },
    'operator:test',
    now,
  );
}

/** A draft through the real gate, as the send service submits it. */
export function submitDraft(store: Store, mailbox: string, subject: string, now = Date.now()): Promise<SubmitResult> {
  const content: MessageContent = { to: ['someone@external.example'], cc: [], bcc: [], subject, text: 'Hello', html: null };
  const action = { kind: 'send' as const, recipients: content.to, subject, isReply: false, text: content.text, html: null, mailbox };
  return store.submitMessage(
    { message_id: newMessageId(), message_id_header: newMessageIdHeader(mailbox), mailbox, kind: 'send', content, actor: AGENT.id },
    (mb, facts, limits) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules, limits }, { requireApproval: false }, action, facts),
    now,
  );
}

/** The sessions of the instances' LISTEN connections on a PostgreSQL database, once LISTEN has run on them. */
export async function listeners(cluster: Postgres, database: string): Promise<number[]> {
  const name = new URL(database).pathname.slice(1);
  const r = await cluster.admin(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'mailgate-listen' AND query LIKE 'LISTEN%' AND state = 'idle'",
    [name],
  );
  return r.rows.map((row: { pid: number }) => row.pid);
}

/** Polls (setup only, never what a test asserts) until `check` holds. */
export async function settle(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A webhook receiver on 127.0.0.1 that answers 200 and resolves `next()` at each request. */
export async function startHookReceiver(): Promise<{ url: string; bodies: string[]; next(timeoutMs?: number): Promise<string>; stop(): Promise<void> }> {
  const bodies: string[] = [];
  const waiting: ((body: string) => void)[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      bodies.push(body);
      res.writeHead(200).end('ok');
      waiting.shift()?.(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    bodies,
    next: (timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no webhook request within ${timeoutMs} ms`)), timeoutMs);
        waiting.push((b) => {
          clearTimeout(t);
          resolve(b);
        });
      }),
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
