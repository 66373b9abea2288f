/**
 * Bench: webhook delivery. Events are enqueued through real store operations (held sends on a gated_send mailbox:
 * each writes an email.pending event and one delivery in its commit) and drained by the real dispatcher, built by
 * createApp with the MAILGATE_WEBHOOK_* tuning of this process's environment, to one endpoint: a node:http
 * receiver on 127.0.0.1 that answers 200 at once. Three ways:
 *   paced    sendEmail, and the next only after the receiver got the last: the latency of one event
 *   stream   sendEmail back to back, the event loop turning between them as it does between MCP calls
 *   backlog  N sends committed in one synchronous run, then drained: the dispatcher's batches of 20 at work
 * The baseline POSTs the same bodies and headers with fetch to the same receiver, one at a time and with as many
 * in flight as the dispatcher's batch. Latency runs from the start of the call (sendEmail, fetch; for the backlog,
 * the end of its commits) to the receiver having the whole request. Rounds are interleaved. Nothing here talks to
 * anything but 127.0.0.1.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { type ClientRequest, createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import type { Principal } from '../src/services/context.js';
import { sendEmail } from '../src/services/send.js';
import { newWebhookSecret } from '../src/webhooks/sign.js';
import { submitDraft } from './policy.js';
import { BODY, openRaw } from './raw.js';
import { BENCH_POLICY } from './client.js';
import { Acc, type Cell, formatTable, msSince, now, round, type Summary } from './stats.js';

export interface WebhookOptions {
  /** Events per case, over all rounds. */
  events: number;
  rounds: number;
  warmup: number;
}

type Case = Summary & { max_in_flight: number };
type CaseName = 'dispatcher_paced' | 'dispatcher_stream' | 'dispatcher_backlog' | 'raw_sequential' | 'raw_concurrent';

export interface WebhookReport {
  events: number;
  /** The MAILGATE_WEBHOOK_* variables set for this run (none: the dispatcher's defaults). */
  tuning: Record<string, string>;
  dispatcher_batch: number;
  cases: Record<CaseName, Case> & { enqueue: Summary };
  /** mailgate / baseline: latency above 1 and throughput below 1 mean mailgate is slower. */
  ratios: { paced_p50_vs_sequential: number; paced_p95_vs_sequential: number; stream_ops_vs_sequential: number; backlog_ops_vs_concurrent: number };
  delivered: number;
}

/** src/webhooks/dispatcher.ts BATCH (not exported): it claims up to this many and POSTs them all at once. */
const DISPATCHER_BATCH = 20;
const MAILBOX = 'agent@bench.test';
const AGENT: Principal = { id: 'mcp:agent/mailgate-bench', roles: ['agent'], mailboxes: 'all' };

export async function benchWebhooks(dir: string, o: WebhookOptions): Promise<WebhookReport> {
  const receiver = await startReceiver();
  const fetches = countFetches();
  const dbPath = join(dir, 'webhooks.db');
  const configPath = join(dir, 'webhooks.config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      mailboxes: [{ address: MAILBOX, oversight_mode: 'gated_send' }],
      webhooks: [{ url: receiver.url, secret: newWebhookSecret(), allow_private_network: true }],
      policy: BENCH_POLICY,
    }),
  );
  const app = await createApp(loadConfig({ config: configPath, db: dbPath }, {}), { background: true }).catch(async (err: unknown) => {
    fetches.restore();
    await receiver.stop();
    throw err;
  });
  let serial = 0;
  /** One held send through the service; resolves to its message id, the key its webhook arrives under. */
  const send = async () => {
    const n = ++serial;
    const r = await sendEmail(app, AGENT, { mailbox: MAILBOX, to: [`someone+${n}@example.com`], subject: `Webhook bench ${n}`, text: BODY });
    if (r.status !== 'pending') throw new Error(`send ${n} was ${r.status}, expected pending: ${r.reason ?? ''}`);
    return r.message_id;
  };
  // The paced case's sendEmail calls alone: how much of its latency is the commit that writes the event.
  const enqueue: number[] = [];
  const paced = async () => {
    const t = now();
    const id = await send();
    enqueue.push(msSince(t));
    await receiver.arrival(id);
    return id;
  };
  const streamed = async () => {
    const id = await send();
    await turn();
    return id;
  };
  let rawSerial = 0;
  /** A POST of a body the dispatcher sent earlier, with its headers, under a key of its own. */
  const post = async (i: number) => {
    const key = `raw-${++rawSerial}`;
    const { body, headers } = receiver.captured[receiver.captured.length - 1 - (i % receiver.captured.length)]!;
    const res = await fetch(receiver.url, { method: 'POST', body, redirect: 'manual', headers: { ...replayHeaders(headers), 'x-bench-key': key } });
    await res.body?.cancel().catch(() => undefined); // as the dispatcher does
    if (res.status !== 200) throw new Error(`receiver answered ${res.status}`);
    return key;
  };
  const per = Math.ceil(o.events / o.rounds);
  const cases: Record<CaseName, () => Promise<Timed>> = {
    dispatcher_paced: () => measure(receiver, fetches, per, 1, paced),
    dispatcher_stream: () => measure(receiver, fetches, per, 1, streamed),
    dispatcher_backlog: () => drainBacklog(receiver, fetches, per, () => submitDraft(app.store, MAILBOX, ++serial)),
    raw_sequential: () => measure(receiver, fetches, per, 1, post),
    raw_concurrent: () => measure(receiver, fetches, per, DISPATCHER_BATCH, post),
  };
  const acc = Object.fromEntries(Object.keys(cases).map((k) => [k, { acc: new Acc(), maxInFlight: 0 }]));
  try {
    // Warms the connection pool, the prepared statements and the JIT; the first events give the baseline its bodies.
    await measure(receiver, fetches, o.warmup, 1, paced);
    await measure(receiver, fetches, o.warmup, DISPATCHER_BATCH, post);
    enqueue.length = 0;
    for (let r = 0; r < o.rounds; r++) {
      for (const [name, run] of Object.entries(cases)) {
        // The last case's outcomes may still be being recorded (a commit each): let them finish, or they land on this case.
        await app.webhooks.tick();
        const t = await run();
        acc[name]!.acc.add(t);
        acc[name]!.maxInFlight = Math.max(acc[name]!.maxInFlight, t.maxInFlight);
      }
    }
  } finally {
    await app.close();
    fetches.restore();
    await receiver.stop();
  }
  const c = Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, { ...v.acc.summary(), max_in_flight: v.maxInFlight }])) as Record<CaseName, Case>;
  return {
    events: per * o.rounds,
    tuning: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('MAILGATE_WEBHOOK_') && e[1] !== undefined)),
    dispatcher_batch: DISPATCHER_BATCH,
    cases: { enqueue: summarizeEnqueue(enqueue), ...c },
    ratios: {
      paced_p50_vs_sequential: round(c.dispatcher_paced.p50_ms / c.raw_sequential.p50_ms),
      paced_p95_vs_sequential: round(c.dispatcher_paced.p95_ms / c.raw_sequential.p95_ms),
      stream_ops_vs_sequential: round(c.dispatcher_stream.ops_per_s / c.raw_sequential.ops_per_s),
      backlog_ops_vs_concurrent: round(c.dispatcher_backlog.ops_per_s / c.raw_concurrent.ops_per_s),
    },
    delivered: checkDelivered(dbPath, serial),
  };
}

/** Enqueue call times: wall time is their sum (they never overlap), so ops/s is 1 / mean. */
function summarizeEnqueue(samples: number[]): Summary {
  const a = new Acc();
  a.add({ samples, wallMs: samples.reduce((x, y) => x + y, 0) });
  return a.summary();
}

/** Every event of the run reached the receiver and was recorded as delivered: none pending, failed or duplicated. */
function checkDelivered(dbPath: string, sends: number): number {
  const db = openRaw(dbPath);
  try {
    const rows = db.prepare('SELECT status, count(*) AS n FROM webhook_deliveries GROUP BY status').all() as { status: string; n: number }[];
    const delivered = rows.find((r) => r.status === 'delivered')?.n ?? 0;
    if (delivered !== sends || rows.length !== 1) throw new Error(`webhook deliveries after ${sends} held sends: ${JSON.stringify(rows)}`);
    return delivered;
  } finally {
    db.close();
  }
}

/** The headers a receiver sees from the dispatcher (size and shape), minus hop-by-hop ones fetch sets itself. */
function replayHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const keep = ['content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'webhook-signature'];
  return Object.fromEntries(keep.filter((k) => typeof h[k] === 'string').map((k) => [k, h[k] as string]));
}

interface Timed {
  samples: number[];
  wallMs: number;
  maxInFlight: number;
}

/**
 * Runs `op` `count` times with `lanes` at once. Each op resolves to the key its request arrives under; a
 * sample is from the op's start to that arrival, and the wall time runs to the last arrival.
 */
async function measure(receiver: Receiver, fetches: FetchCounter, count: number, lanes: number, op: (i: number) => Promise<string>): Promise<Timed> {
  const started = new Map<string, bigint>();
  const start = now();
  fetches.reset();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      const t = now();
      started.set(await op(i), t);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return arrivalsSince(receiver, fetches, started, start);
}

/**
 * Commits `count` held sends without letting the event loop turn (each submit commits inside the call), so the
 * dispatcher, woken by the first commit, finds them all due: the drain of a backlog, from the end of the commits.
 */
async function drainBacklog(receiver: Receiver, fetches: FetchCounter, count: number, submit: () => Promise<string>): Promise<Timed> {
  fetches.reset();
  const pending = Array.from({ length: count }, submit);
  const start = now();
  const ids = await Promise.all(pending);
  return arrivalsSince(receiver, fetches, new Map(ids.map((id) => [id, start])), start);
}

async function arrivalsSince(receiver: Receiver, fetches: FetchCounter, started: Map<string, bigint>, start: bigint): Promise<Timed> {
  const arrivals = await Promise.all([...started.keys()].map((k) => receiver.arrival(k)));
  const samples = [...started.values()].map((t, i) => Number(arrivals[i]! - t) / 1e6);
  // biome-ignore lint/complexity/useMathMinMax: these are bigint nanoseconds, which Math.max does not take
  const last = arrivals.reduce((a, b) => (b > a ? b : a), start);
  return { samples, wallMs: Number(last - start) / 1e6, maxInFlight: fetches.max };
}

interface FetchCounter {
  /** The most requests awaiting a response at once since the last reset. */
  max: number;
  reset(): void;
  restore(): void;
}

/**
 * Counts requests awaiting their response: the baseline's through a wrapped global fetch, the dispatcher's
 * (node:http, pinned to a checked address) through node's http.client.request.start diagnostics channel. The
 * receiver cannot see overlap: it answers each request in the tick it ends, so it never has two open at once.
 */
function countFetches(): FetchCounter {
  const original = globalThis.fetch;
  let open = 0;
  const onRequest = (message: unknown) => {
    c.max = Math.max(c.max, ++open);
    (message as { request: ClientRequest }).request.once('close', () => open--);
  };
  subscribe('http.client.request.start', onRequest);
  const c: FetchCounter = {
    max: 0,
    reset: () => void (c.max = 0),
    restore: () => {
      globalThis.fetch = original;
      unsubscribe('http.client.request.start', onRequest);
    },
  };
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    c.max = Math.max(c.max, ++open);
    try {
      return await original(...args);
    } finally {
      open--;
    }
  };
  return c;
}

interface Receiver {
  url: string;
  /** The dispatcher's requests, for the baseline to send again. */
  captured: { body: string; headers: IncomingHttpHeaders }[];
  /** When the request with this key (x-bench-key, else the payload's data.message_id) had arrived in full. */
  arrival(key: string): Promise<bigint>;
  stop(): Promise<void>;
}

/** A node:http server on 127.0.0.1 (a port the OS picks) that answers 200 at once and notes when each request arrived. */
async function startReceiver(): Promise<Receiver> {
  const arrived = new Map<string, bigint>();
  const waiting = new Map<string, (t: bigint) => void>();
  const r: Receiver = {
    url: '',
    captured: [],
    arrival: (key) => {
      const t = arrived.get(key);
      if (t !== undefined) return Promise.resolve(t);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`webhook ${key} did not arrive within 30 s`)), 30_000);
        waiting.set(key, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      });
    },
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = now();
      const body = Buffer.concat(chunks).toString('utf8');
      let key = req.headers['x-bench-key'] as string | undefined;
      if (!key) {
        key = String((JSON.parse(body) as { data: { message_id: string } }).data.message_id);
        r.captured.push({ body, headers: req.headers });
      }
      arrived.set(key, at);
      waiting.get(key)?.(at);
      waiting.delete(key);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return r;
}

const HEADER = ['', 'n', 'events/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'max in flight'];

export function formatWebhooks(w: WebhookReport): string {
  const c = w.cases;
  const row = (label: string, s: Summary, inFlight: number | string = ''): Cell[] => [
    label,
    s.n,
    s.ops_per_s,
    s.p50_ms,
    s.p95_ms,
    s.p99_ms,
    s.max_ms,
    inFlight,
  ];
  const tuning =
    Object.entries(w.tuning)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ') || 'dispatcher defaults';
  const r = w.ratios;
  return [
    `webhooks: held sends -> email.pending -> the real dispatcher (${tuning}) -> a node:http receiver on 127.0.0.1 answering 200; ` +
      'latency to the request arriving in full; in flight = requests awaiting a response',
    formatTable(HEADER, [
      row('enqueue alone: sendEmail, held (its commit)', c.enqueue),
      row('mailgate: paced, one event at a time', c.dispatcher_paced, c.dispatcher_paced.max_in_flight),
      row('mailgate: stream of sends, loop turns between', c.dispatcher_stream, c.dispatcher_stream.max_in_flight),
      row('mailgate: backlog drain (from its commit)', c.dispatcher_backlog, c.dispatcher_backlog.max_in_flight),
      row('baseline: raw fetch POST, sequential', c.raw_sequential, c.raw_sequential.max_in_flight),
      row(`baseline: raw fetch POST, ${w.dispatcher_batch} lanes`, c.raw_concurrent, c.raw_concurrent.max_in_flight),
    ]),
    `ratio mailgate/baseline: paced latency p50 ${r.paced_p50_vs_sequential}x, p95 ${r.paced_p95_vs_sequential}x vs sequential; ` +
      `stream throughput ${r.stream_ops_vs_sequential}x vs sequential; backlog throughput ${r.backlog_ops_vs_concurrent}x vs ${w.dispatcher_batch} lanes; ` +
      `${w.delivered} deliveries, all recorded delivered`,
  ].join('\n');
}
