/**
 * The parent's side of the multi-instance bench: forked instances (bench/instance-worker.ts) driven over IPC, a
 * case run on several of them at once, and what the machine and the PostgreSQL server were doing meanwhile.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { VerifyResult } from '../src/store/audit.js';
import { type FromInstance, INSTANCE_SCRIPT, type InstanceInit, type RunCommand, type RunResult, type ToInstance } from './instance-worker.js';

export class Instance {
  private readonly child: ChildProcess;
  private waiting: { resolve: (m: FromInstance) => void; reject: (e: Error) => void } | undefined;
  private exited: Error | undefined;
  /** Answers a decide run's requests for held messages. */
  private supply: () => string[] = () => [];

  private constructor() {
    // stdout belongs to the bench's report; the instance logs (warnings and worse) on stderr.
    this.child = fork(INSTANCE_SCRIPT, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromInstance) => {
      if (m.type === 'more') return void this.child.send({ type: 'ids', ids: this.supply() } satisfies ToInstance);
      const w = this.waiting;
      this.waiting = undefined;
      if (m.type === 'error') w?.reject(new Error(`instance ${this.child.pid}: ${m.message}`));
      else w?.resolve(m);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`instance ${this.child.pid} exited (${signal ?? code})`);
      this.waiting?.reject(this.exited);
      this.waiting = undefined;
    });
  }

  /** Forks an instance and opens its app on `init`'s database (migrating and applying the config on first open). */
  static async start(init: Omit<InstanceInit, 'type'>): Promise<Instance> {
    const i = new Instance();
    try {
      await i.request({ type: 'init', ...init });
    } catch (err) {
      i.child.kill('SIGKILL');
      throw err;
    }
    return i;
  }

  request(m: ToInstance): Promise<FromInstance> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.child.send(m);
    });
  }

  /** The audit chain, walked whole by this instance's store. */
  async verify(): Promise<VerifyResult> {
    return ((await this.request({ type: 'verify' })) as Extract<FromInstance, { type: 'verified' }>).audit;
  }

  async run(c: RunCommand, supply: () => string[] = () => []): Promise<RunResult> {
    this.supply = supply;
    return (await this.request(c)) as RunResult;
  }

  /** Closes the app and waits for the process to end; kills it if it has not after 5 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'close' } satisfies ToInstance);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await gone;
    clearTimeout(timer);
  }
}

export interface Together {
  results: RunResult[];
  /** The longest instance's wall time: the instances started together, so this is the case's. */
  wallMs: number;
}

/**
 * One case on `instances` at once: `lanes` lanes in all, shared evenly. Lane k overall sends from mailboxes[k],
 * whichever instance runs it. A decide run takes held messages from `held`, a few at a time as each instance
 * asks; what it did not reach comes back in its result. Starts all at one Date.now() instant, 50 ms ahead, so
 * no instance runs alone while the commands are still in flight.
 */
export async function runTogether(
  instances: readonly Instance[],
  c: Omit<RunCommand, 'type' | 'lanes' | 'mailboxes' | 'startAt'>,
  lanes: number,
  mailboxes: readonly string[],
  held: string[] = [],
): Promise<Together> {
  const per = lanes / instances.length;
  if (!Number.isInteger(per)) throw new Error(`${lanes} lanes do not share evenly over ${instances.length} instances`);
  const startAt = Date.now() + 50;
  const results = await Promise.all(
    instances.map((inst, i) =>
      inst.run({ type: 'run', ...c, lanes: per, mailboxes: mailboxes.slice(i * per, (i + 1) * per), startAt }, () => held.splice(0, 2 * per)),
    ),
  );
  return { results, wallMs: Math.max(...results.map((r) => r.wallMs)) };
}

/** All CPUs' busy and total jiffies from /proc/stat (Linux); undefined elsewhere. */
export function cpuTicks(): { busy: number; total: number } | undefined {
  if (!existsSync('/proc/stat')) return undefined;
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  // idle and iowait: a CPU waiting on the disk is free to run something else.
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

/**
 * The audit chain's advisory lock key (src/store/audit.ts CHAIN_LOCK, not exported); PgDriver takes it as
 * pg_advisory_xact_lock(hashtextextended(key, 0)), whose 64 bits pg_locks shows as classid (high) and objid (low).
 */
const CHAIN_LOCK = 'audit-chain';

/**
 * Samples pg_stat_activity every `everyMs` until stopped: how many of a database's client backends were, on
 * average, running, waiting on a lock (the audit chain's told apart from the other advisory locks), on the WAL, or idle
 * inside a transaction waiting for their Node process. `query` runs one statement as an admin.
 */
export function sampleWaits(
  query: (sql: string, params: unknown[]) => Promise<{ rows: { what: string; n: number }[] }>,
  database: string,
  everyMs = 50,
): () => Promise<{ samples: number; counts: Record<string, number> }> {
  const counts: Record<string, number> = {};
  let samples = 0;
  let stopped = false;
  // Kept, not thrown, until the caller stops the sampler: an unhandled rejection would end the bench at once.
  let failed: unknown;
  const loop = (async () => {
    while (!stopped) {
      const { rows } = await query(
        `SELECT CASE WHEN a.state = 'idle' THEN 'idle'
                     WHEN a.state LIKE 'idle in transaction%' THEN 'in_tx_waiting_for_client'
                     WHEN a.wait_event_type IS NULL THEN 'running'
                     WHEN l.pid IS NOT NULL AND ((l.classid::int8 << 32) | l.objid::int8) = hashtextextended('${CHAIN_LOCK}', 0)
                       THEN 'lock:audit_chain'
                     ELSE lower(a.wait_event_type) || ':' || a.wait_event END AS what, count(*)::int AS n
           FROM pg_stat_activity a LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted AND l.locktype = 'advisory'
           WHERE a.datname = $1 AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() GROUP BY 1`,
        [database],
      );
      samples++;
      for (const r of rows) counts[r.what] = (counts[r.what] ?? 0) + r.n;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })().catch((err: unknown) => {
    failed = err;
  });
  return async () => {
    stopped = true;
    await loop;
    if (failed) throw failed;
    return { samples, counts };
  };
}
