/**
 * One mailgate instance of the multi-instance bench (bench/postgres.ts), run as a child process by fork(): three
 * of them are three event loops and three connection pools, as three `serve --http` processes are, where one
 * process driving three stores would share one loop. It opens the app (services, gate, store; no background
 * worker, no webhooks) on the database the parent names, plus a raw client of the same database for the baseline,
 * and on each command runs `lanes` concurrent loops of one operation until the time box closes, answering with its
 * latencies. The parent starts a case on every instance at the same wall-clock instant.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { type App, createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { setLogLevel } from '../src/log.js';
import type { Principal } from '../src/services/context.js';
import type { DeliveryWorker } from '../src/services/deliver.js';
import { approveMessage } from '../src/services/review.js';
import { sendEmail } from '../src/services/send.js';
import type { VerifyResult } from '../src/store/audit.js';
import { BODY, baselineInserter, openRaw } from './raw.js';
import { msSince, now } from './stats.js';

export interface InstanceInit {
  type: 'init';
  /** A SQLite file or a postgres:// URL, as --db takes it. */
  database: string;
  config: string;
  /** The baseline's database: a postgres:// URL or a SQLite file, holding raw.ts's `messages` table. */
  raw: string;
}

export interface RunCommand {
  type: 'run';
  kind: 'send' | 'decide' | 'raw';
  lanes: number;
  /** Lane k of this instance sends from mailboxes[k]: no two lanes of a run wait on one mailbox's submit lock. */
  mailboxes: string[];
  maxMs: number;
  /** Date.now() at which every instance of the case starts. */
  startAt: number;
}

/** `ids` answers a decide run's `more`: held messages to approve, none when the parent has no more. */
export type ToInstance = InstanceInit | RunCommand | { type: 'ids'; ids: string[] } | { type: 'verify' } | { type: 'close' };

export interface RunResult {
  type: 'done';
  samples: number[];
  wallMs: number;
  /** CPU time (user + system) this process spent in the run. */
  cpuMs: number;
  /** send: the held messages' ids, for later decide runs; decide: those it was given and did not reach. */
  ids: string[];
  /** decide: the parent had no more held messages before the time box closed. */
  exhausted: boolean;
}

/** `more`: a decide run asks for held messages whenever its own are gone, so no instance idles while others have some. */
export type FromInstance = { type: 'ready' } | RunResult | { type: 'more' } | { type: 'verified'; audit: VerifyResult } | { type: 'error'; message: string };

const AGENT: Principal = { id: 'mcp:agent/mailgate-bench', roles: ['agent'], mailboxes: 'all' };
const REVIEWER: Principal = { id: 'cli:bench-reviewer', roles: ['reviewer'], mailboxes: 'all' };

interface Opened {
  app: App;
  /** approveMessage's context without the delivery pass it runs after the decision: decisions are measured, not delivery. */
  decideCtx: App;
  raw: () => Promise<void>;
  closeRaw: () => Promise<void>;
}

async function open(m: InstanceInit): Promise<Opened> {
  // An empty environment: a MAILGATE_DATABASE_URL in the caller's shell must not redirect the bench.
  const app = await createApp(loadConfig({ config: m.config, db: m.database }, {}));
  const decideCtx = { ...app, worker: { tick: async () => undefined } as unknown as DeliveryWorker };
  if (!m.raw.startsWith('postgres')) {
    const db = openRaw(m.raw);
    const insert = baselineInserter(db);
    return { app, decideCtx, raw: async () => insert(), closeRaw: async () => void db.close() };
  }
  // As PgDriver runs a transaction: a pooled connection, BEGIN, one statement, COMMIT.
  const pool = new pg.Pool({ connectionString: m.raw, max: 10 });
  let seq = 0;
  const raw = async () => {
    const client = await pool.connect();
    try {
      const i = seq++;
      const t = Date.now();
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      await client.query(
        `INSERT INTO messages (message_id, mailbox, status, to_addrs, subject, text_body, created_at, expires_at, updated_at)
         VALUES ($1, 'agent@mailgate.test', 'pending', $2, $3, $4, $5, $6, $7)`,
        [`msg_bench_${process.pid}_${i}`, JSON.stringify([`someone+${i}@example.com`]), `Bench ${i}`, BODY, t, t + 72 * 3600_000, t],
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  };
  return { app, decideCtx, raw, closeRaw: () => pool.end() };
}

/** Per process, over all runs: a draft identical to an earlier one within the dedupe window is refused. */
let serial = 0;

async function run(o: Opened, c: RunCommand): Promise<RunResult> {
  const ids: string[] = [];
  const queue: string[] = [];
  let dry = false;
  let refill: Promise<void> | undefined;
  // One request at a time however many lanes find the queue empty together.
  const nextId = async () => {
    while (queue.length === 0 && !dry) {
      refill ??= more().then((got) => {
        queue.push(...got);
        dry = got.length === 0;
        refill = undefined;
      });
      await refill;
    }
    return queue.pop();
  };
  const op = async (lane: number): Promise<boolean> => {
    if (c.kind === 'raw') {
      await o.raw();
    } else if (c.kind === 'send') {
      const n = ++serial;
      const r = await sendEmail(o.app, AGENT, {
        mailbox: c.mailboxes[lane]!,
        to: [`someone+${process.pid}-${n}@example.com`],
        subject: `Bench ${n}`,
        text: BODY,
      });
      if (r.status !== 'pending') throw new Error(`send ${n} was ${r.status}, expected pending: ${r.reason ?? r.error ?? ''}`);
      ids.push(r.message_id);
    } else {
      const id = await nextId();
      if (!id) return false;
      const m = await approveMessage(o.decideCtx, REVIEWER, id);
      if (m.status !== 'approved') throw new Error(`approved ${id} is ${m.status}`);
    }
    return true;
  };
  await new Promise((r) => setTimeout(r, Math.max(0, c.startAt - Date.now())));
  const samples: number[] = [];
  const cpu = process.cpuUsage();
  const start = now();
  const lane = async (k: number) => {
    while (msSince(start) < c.maxMs) {
      const t = now();
      if (!(await op(k))) return;
      samples.push(msSince(t));
    }
  };
  await Promise.all(Array.from({ length: c.lanes }, (_, k) => lane(k)));
  const wallMs = msSince(start);
  const used = process.cpuUsage(cpu);
  return { type: 'done', samples, wallMs, cpuMs: (used.user + used.system) / 1000, ids: c.kind === 'decide' ? queue : ids, exhausted: dry };
}

let supply: ((ids: string[]) => void) | undefined;
const more = () =>
  new Promise<string[]>((resolve) => {
    supply = resolve;
    process.send?.({ type: 'more' } satisfies FromInstance);
  });

function serve(): void {
  setLogLevel('warn');
  const send = (m: FromInstance) => process.send?.(m);
  let opened: Promise<Opened> | undefined;
  process.on('message', (m: ToInstance) => {
    if (m.type === 'ids') return supply?.(m.ids);
    const reply = async () => {
      if (m.type === 'init') {
        opened = open(m);
        await opened;
        send({ type: 'ready' });
      } else if (m.type === 'run') {
        send(await run(await opened!, m));
      } else if (m.type === 'verify') {
        send({ type: 'verified', audit: await (await opened!).app.store.verifyAudit() });
      } else {
        const o = await opened;
        await o?.app.close();
        await o?.closeRaw();
        process.disconnect?.();
      }
    };
    reply().catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
  });
}

/** This file's path, for fork(); run as a script, it serves the parent's commands. */
export const INSTANCE_SCRIPT = fileURLToPath(import.meta.url);
if (process.argv[1] === INSTANCE_SCRIPT && process.send) serve();
