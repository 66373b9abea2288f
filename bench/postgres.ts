/**
 * Bench: several instances on one database (issue 13). Gated sends per second (sendEmail, the service path the
 * webhook and delivery benches use, to gated_send mailboxes: every draft held, one commit of message + audit
 * event) and decisions per second (approveMessage of held messages, without the delivery pass it then runs),
 * each with one instance and with three, on a private PostgreSQL cluster and on one SQLite file. An instance is
 * a forked process with its own app and connection pool (bench/instance-worker.ts); the same `lanes` concurrent
 * clients in all are shared over the instances, lane k always drafting from mailbox k, so no two lanes wait on
 * one mailbox's submit lock and 1 vs 3 instances differ only in processes. Baseline: raw single-row INSERT
 * transactions with the same lanes and processes, through `pg` to another database of the same server and
 * through better-sqlite3 to another file in the same directory. Commits are durable on both sides: the test
 * helper's cluster runs with fsync off, which the bench turns back on, as SQLite runs synchronous=FULL.
 * Rounds are interleaved (and alternate 1-then-3 with 3-then-1) so every case sees the same disk weather.
 * On PostgreSQL, pg_stat_activity is sampled during each case: where the server's backends spent the time.
 * Afterwards the databases must hold exactly what the instances acknowledged, and the audit chain must verify.
 */
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type Postgres, startPostgres } from '../test/helpers/postgres.js';
import { BENCH_POLICY } from './client.js';
import { cpuTicks, Instance, runTogether, sampleWaits } from './instances.js';
import { countRows, createPgBaselineTable, durable } from './multi-db.js';
import { Acc, type BackendReport, backendReport, type CaseKey, KEYS, KINDS, type Kind, type MultiReport } from './multi-report.js';
import { createBaselineTable, openRaw } from './raw.js';
import { msSince, now, round } from './stats.js';

export interface MultiOptions {
  /** Concurrent clients in all, shared evenly over the instances (so a multiple of 3). */
  lanes: number;
  /** Per case and round. */
  caseMs: number;
  rounds: number;
  warmupMs: number;
}

interface Backend {
  name: 'postgres' | 'sqlite';
  database: string;
  instances: Instance[];
  /** Held messages no decide case has taken yet. */
  held: string[];
  /** Acknowledged over the whole run, warm-ups and refills included. */
  sent: number;
  decided: number;
  /** PostgreSQL: the databases whose backends sampleWaits counts, mailgate's and the baseline's. */
  waitDb?: { mailgate: string; raw: string };
  acc: Record<CaseKey, Acc>;
}

export async function benchMultiInstance(dir: string, o: MultiOptions): Promise<MultiReport> {
  const start = now();
  const loadBefore = loadavg()[0]!;
  let pgc: Postgres;
  try {
    pgc = await startPostgres();
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    // Only missing binaries skip the section; a server that is there and fails to start fails the bench.
    if (!msg.startsWith('cannot start PostgreSQL, missing')) throw err;
    return { skipped: `${msg}. On Debian: apt-get install postgresql (the distribution's own cluster may stay stopped).` };
  }
  const backends: Backend[] = [];
  const mailboxes = Array.from({ length: o.lanes }, (_, k) => `lane${k}@bench.test`);
  const checks: BackendReport['check'][] = [];
  let setupMs = 0;
  let unmeasuredMs = 0;
  try {
    await durable(pgc);
    const mailgateUrl = await pgc.freshDatabase();
    const rawUrl = await pgc.freshDatabase();
    await createPgBaselineTable(rawUrl);
    const rawFile = join(dir, 'multi-raw.db');
    const raw = openRaw(rawFile);
    createBaselineTable(raw);
    raw.close();
    const config = join(dir, 'multi.json');
    writeFileSync(config, JSON.stringify({ mailboxes: mailboxes.map((address) => ({ address, oversight_mode: 'gated_send' })), policy: BENCH_POLICY }));
    const dbName = (url: string) => new URL(url).pathname.slice(1);
    for (const [name, database, rawDb] of [
      ['postgres', mailgateUrl, rawUrl],
      ['sqlite', join(dir, 'multi.db'), rawFile],
    ] as const) {
      const acc = Object.fromEntries(KEYS.map((k) => [k, new Acc()])) as Backend['acc'];
      const b: Backend = { name, database, instances: [], held: [], sent: 0, decided: 0, acc };
      if (name === 'postgres') b.waitDb = { mailgate: dbName(mailgateUrl), raw: dbName(rawUrl) };
      backends.push(b);
      // One after the other: the first migrates and applies the config, the others find it done.
      for (let i = 0; i < 3; i++) b.instances.push(await Instance.start({ database, config, raw: rawDb }));
    }
    setupMs = msSince(start);

    const run = (b: Backend, kind: Kind, n: 1 | 3, maxMs: number, acc?: Acc) => runCase(pgc, b, kind, n, maxMs, mailboxes, acc);
    // Decisions need held messages: enough for a case at the fastest decide rate seen, with a margin, sent
    // unmeasured beforehand where the send cases did not leave that many.
    const decideRate = new Map<Backend, number>();
    const topUp = async (b: Backend) => {
      const want = Math.ceil((decideRate.get(b)! * o.caseMs * 1.5) / 1000);
      const t = now();
      while (b.held.length < want) await run(b, 'send', 3, 500);
      unmeasuredMs += msSince(t);
    };
    const warm = now();
    for (const b of backends) {
      // Unmeasured: JIT, pools, prepared plans; the sends leave held messages for the decide warm-up.
      await run(b, 'raw', 3, o.warmupMs);
      await run(b, 'send', 3, o.warmupMs);
      decideRate.set(b, await run(b, 'decide', 3, o.warmupMs / 2));
    }
    unmeasuredMs += msSince(warm);
    for (let r = 0; r < o.rounds; r++) {
      const order: (1 | 3)[] = r % 2 === 0 ? [1, 3] : [3, 1];
      for (const b of backends) {
        for (const kind of KINDS) {
          for (const n of order) {
            if (kind === 'decide') await topUp(b);
            const rate = await run(b, kind, n, o.caseMs, b.acc[`${kind}_${n}`]);
            if (kind === 'decide') decideRate.set(b, Math.max(decideRate.get(b)!, rate));
          }
        }
      }
    }
    for (const b of backends) checks.push(await check(b));
  } finally {
    for (const b of backends) await Promise.all(b.instances.map((i) => i.close()));
    await pgc.stop();
  }
  return {
    lanes: o.lanes,
    case_ms: o.caseMs,
    rounds: o.rounds,
    setup_ms: round(setupMs),
    unmeasured_ms: round(unmeasuredMs),
    load_avg: [round(loadBefore), round(loadavg()[0]!)],
    durability: 'PostgreSQL fsync=on, synchronous_commit=on, full_page_writes=on; SQLite WAL, synchronous=FULL',
    postgres: backendReport(backends[0]!.acc, checks[0]!),
    sqlite: backendReport(backends[1]!.acc, checks[1]!),
    goal_3_vs_1: 2,
  };
}

/**
 * One case on the first `n` instances of a backend; its figures go into `acc` (none for warm-ups and refills).
 * Resolves to this run's rate, operations per second.
 */
async function runCase(pgc: Postgres, b: Backend, kind: Kind, n: 1 | 3, maxMs: number, mailboxes: readonly string[], acc?: Acc): Promise<number> {
  const stopWaits = acc && b.waitDb ? sampleWaits(pgc.admin, kind === 'raw' ? b.waitDb.raw : b.waitDb.mailgate) : undefined;
  const before = cpuTicks();
  const t = await runTogether(b.instances.slice(0, n), { kind, maxMs }, mailboxes.length, mailboxes, b.held).catch(async (err: unknown) => {
    // The sampler must not query the cluster after the bench has stopped it.
    await stopWaits?.().catch(() => undefined);
    throw err;
  });
  const after = cpuTicks();
  const waits = await stopWaits?.();
  let ops = 0;
  for (const r of t.results) {
    ops += r.samples.length;
    if (kind === 'send') b.sent += r.ids.length;
    if (kind === 'decide') b.decided += r.samples.length;
    b.held.push(...r.ids);
  }
  acc?.add(t.results, t.wallMs, before && after ? { busy: after.busy - before.busy, total: after.total - before.total } : undefined, waits);
  return ops / (t.wallMs / 1000);
}

/** What the instances acknowledged is what the database holds, and the audit chain is still one chain. */
async function check(b: Backend): Promise<BackendReport['check']> {
  const { statuses, audit_events } = await countRows(b.database);
  const { pending = 0, approved = 0, ...other } = statuses;
  const audit = await b.instances[0]!.verify();
  const problems = [
    pending + approved !== b.sent && `${b.sent} sends acknowledged, ${pending + approved} messages held or approved`,
    approved !== b.decided && `${b.decided} approvals acknowledged, ${approved} messages approved`,
    Object.keys(other).length > 0 && `unexpected statuses ${JSON.stringify(other)}`,
    !audit.ok && `the audit chain does not verify: ${audit.problem} at seq ${audit.first_bad_seq}`,
  ].filter(Boolean);
  if (problems.length) throw new Error(`${b.name}: ${problems.join('; ')}`);
  return { sent: b.sent, approved, audit_events, audit_chain: 'verified' };
}
