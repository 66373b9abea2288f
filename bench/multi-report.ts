/**
 * The multi-instance bench's figures (bench/postgres.ts measures them): what a case accumulates over its rounds,
 * the JSON report, and the printed table.
 */
import type { RunResult } from './instance-worker.js';
import { type Cell, formatTable, round, type Summary, summarize } from './stats.js';

export const KINDS = ['raw', 'send', 'decide'] as const;
export type Kind = (typeof KINDS)[number];
export type CaseKey = `${Kind}_${1 | 3}`;
export const KEYS = KINDS.flatMap((k) => [`${k}_1`, `${k}_3`] as CaseKey[]);

export interface CaseReport extends Summary {
  /** CPU time of the instance processes over wall time: cores' worth of Node work. */
  instance_cpu_cores: number;
  /** Share of all the machine's CPUs busy during the case (anything: instances, server, other load). */
  machine_cpu_busy: number;
  /** decide: the held messages ran out before the time box closed (the rate holds, over a shorter time). */
  exhausted: boolean;
  /** PostgreSQL: the case's database's client backends, average count per sample, by what they were doing. */
  backends?: Record<string, number>;
}

export interface BackendReport {
  cases: Record<CaseKey, CaseReport>;
  /** x_3_vs_1: three instances' rate over one's; x_vs_raw_N: mailgate's rate over the raw baseline's, N instances. */
  ratios: Record<string, number>;
  /** After the run: every acknowledged send is held or approved, every acknowledged approval approved, the audit chain verifies. */
  check: { sent: number; approved: number; audit_events: number; audit_chain: 'verified' };
}

export type MultiReport =
  | { skipped: string }
  | {
      lanes: number;
      case_ms: number;
      rounds: number;
      /** Cluster start, databases, and six instances opened (the first of each backend migrating). */
      setup_ms: number;
      /** Warm-ups, and the sends that keep held messages ahead of the decide cases. */
      unmeasured_ms: number;
      /** 1-minute load average before and after: other work on the machine shows here, not in the table. */
      load_avg: [number, number];
      durability: string;
      postgres: BackendReport;
      sqlite: BackendReport;
      goal_3_vs_1: number;
    };

/** One case over all its rounds. */
export class Acc {
  samples: number[] = [];
  wallMs = 0;
  cpuMs = 0;
  busy = 0;
  ticks = 0;
  exhausted = false;
  waitSamples = 0;
  waits: Record<string, number> = {};

  add(
    results: readonly RunResult[],
    wallMs: number,
    cpu: { busy: number; total: number } | undefined,
    waits: { samples: number; counts: Record<string, number> } | undefined,
  ): void {
    for (const r of results) {
      this.samples.push(...r.samples);
      this.cpuMs += r.cpuMs;
      this.exhausted ||= r.exhausted;
    }
    this.wallMs += wallMs;
    if (cpu) {
      this.busy += cpu.busy;
      this.ticks += cpu.total;
    }
    if (waits) {
      this.waitSamples += waits.samples;
      for (const [k, v] of Object.entries(waits.counts)) this.waits[k] = (this.waits[k] ?? 0) + v;
    }
  }

  report(): CaseReport {
    const backends = this.waitSamples
      ? Object.fromEntries(
          Object.entries(this.waits)
            .sort(([, x], [, y]) => y - x)
            .map(([w, v]) => [w, round(v / this.waitSamples)]),
        )
      : undefined;
    return {
      ...summarize(this.samples, this.wallMs),
      instance_cpu_cores: round(this.cpuMs / this.wallMs),
      machine_cpu_busy: this.ticks ? round(this.busy / this.ticks) : NaN,
      exhausted: this.exhausted,
      ...(backends ? { backends } : {}),
    };
  }
}

export function backendReport(acc: Record<CaseKey, Acc>, check: BackendReport['check']): BackendReport {
  const cases = Object.fromEntries(KEYS.map((k) => [k, acc[k].report()])) as Record<CaseKey, CaseReport>;
  const ops = (k: CaseKey) => cases[k].ops_per_s;
  const ratios: Record<string, number> = {};
  for (const kind of KINDS) ratios[`${kind}_3_vs_1`] = round(ops(`${kind}_3`) / ops(`${kind}_1`));
  for (const kind of ['send', 'decide'] as const) for (const n of [1, 3] as const) ratios[`${kind}_vs_raw_${n}`] = round(ops(`${kind}_${n}`) / ops(`raw_${n}`));
  return { cases, ratios, check };
}

const HEADER = ['', 'n', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'x 1 inst', 'x raw', 'node cores', 'cpu busy'];
const LABEL: Record<Kind, string> = { raw: 'raw 1-row insert txn', send: 'mailgate gated send', decide: 'mailgate approve' };

export function formatMultiInstance(m: MultiReport): string {
  if ('skipped' in m) return `several instances on PostgreSQL: SKIPPED, ${m.skipped}`;
  const rows: Cell[][] = [];
  for (const [name, b] of [
    ['postgres', m.postgres],
    ['sqlite', m.sqlite],
  ] as const) {
    for (const kind of KINDS) {
      for (const n of [1, 3] as const) {
        const c = b.cases[`${kind}_${n}`];
        const label = `${name}: ${LABEL[kind]}, ${n} ${n === 1 ? 'process' : 'processes'}${c.exhausted ? ' (ran out of held)' : ''}`;
        const vsRaw = kind === 'raw' ? '' : b.ratios[`${kind}_vs_raw_${n}`]!;
        const vsOne = n === 3 ? b.ratios[`${kind}_3_vs_1`]! : '';
        rows.push([label, c.n, c.ops_per_s, c.p50_ms, c.p95_ms, c.p99_ms, vsOne, vsRaw, c.instance_cpu_cores, `${Math.round(c.machine_cpu_busy * 100)}%`]);
      }
    }
  }
  const met = (x: number) => `${x}x (${x >= m.goal_3_vs_1 ? 'meets' : 'below'} the ${m.goal_3_vs_1}x goal)`;
  const where = (k: CaseKey) =>
    Object.entries(m.postgres.cases[k].backends ?? {})
      .filter(([w]) => w !== 'idle') // the pools' spare connections
      .slice(0, 4)
      .map(([w, v]) => `${v} ${w}`)
      .join(', ');
  const checked = (b: BackendReport) => `${b.check.sent} sent, ${b.check.approved} approved, ${b.check.audit_events} audit events, chain verified`;
  return [
    `several instances on one database: ${m.lanes} concurrent clients in all, shared over 1 or 3 processes (each its own app and ` +
      `pool); ${m.rounds} interleaved rounds of ${m.case_ms} ms per case; ${m.durability}`,
    `setup ${Math.round(m.setup_ms)} ms; unmeasured warm-up and refills of held messages ${Math.round(m.unmeasured_ms)} ms; ` +
      `1-minute load average ${m.load_avg[0]} before, ${m.load_avg[1]} after`,
    formatTable(HEADER, rows),
    `3 instances / 1 on PostgreSQL: sends ${met(m.postgres.ratios.send_3_vs_1!)}, decisions ${met(m.postgres.ratios.decide_3_vs_1!)}; ` +
      `raw pg ${m.postgres.ratios.raw_3_vs_1}x. SQLite (one writer at a time): sends ${m.sqlite.ratios.send_3_vs_1}x, decisions ${m.sqlite.ratios.decide_3_vs_1}x`,
    `PostgreSQL backends, average per sample, 3 instances: sends: ${where('send_3')}; decisions: ${where('decide_3')}; raw: ${where('raw_3')}`,
    `afterwards: postgres ${checked(m.postgres)}; sqlite ${checked(m.sqlite)}`,
  ].join('\n');
}
