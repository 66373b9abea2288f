/** Timing helpers for the benchmarks: a clock in nanoseconds, percentiles, and the printed table. */

export const now = (): bigint => process.hrtime.bigint();

/** Milliseconds since `start`, as a float. */
export const msSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6;

export interface Summary {
  n: number;
  /** Operations per second over the wall time of the run (not 1 / mean: that hides overlap). */
  ops_per_s: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
}

/** Nearest-rank percentile of sorted samples. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(samplesMs: readonly number[], wallMs: number): Summary {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    ops_per_s: round(sorted.length / (wallMs / 1000)),
    mean_ms: round(sum / sorted.length),
    p50_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** Three significant figures: enough for noisy shared machines, short enough to read. */
export function round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Number(x.toPrecision(3));
}

/** Runs `op` until `maxOps` or `maxMs` is reached; returns per-op latencies and the wall time. */
export async function timeLoop(op: (i: number) => Promise<unknown> | unknown, maxOps: number, maxMs: number): Promise<{ samples: number[]; wallMs: number }> {
  const samples: number[] = [];
  const start = now();
  for (let i = 0; i < maxOps && msSince(start) < maxMs; i++) {
    const t = now();
    await op(i);
    samples.push(msSince(t));
  }
  return { samples, wallMs: msSince(start) };
}

/** Same, with `concurrency` operations in flight at once. */
export async function timeConcurrent(
  op: (i: number) => Promise<unknown>,
  concurrency: number,
  maxOps: number,
  maxMs: number,
): Promise<{ samples: number[]; wallMs: number }> {
  const samples: number[] = [];
  const start = now();
  let next = 0;
  const lane = async () => {
    while (next < maxOps && msSince(start) < maxMs) {
      const i = next++;
      const t = now();
      await op(i);
      samples.push(msSince(t));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { samples, wallMs: msSince(start) };
}

/** Samples of one case gathered over several interleaved rounds. */
export class Acc {
  samples: number[] = [];
  wallMs = 0;
  add(t: { samples: number[]; wallMs: number }): void {
    this.samples.push(...t.samples);
    this.wallMs += t.wallMs;
  }
  summary(): Summary {
    return summarize(this.samples, this.wallMs);
  }
}

export type Cell = string | number;

/** A plain left/right aligned text table (numbers right-aligned). */
export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[], numeric: readonly boolean[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const numericCols = header.map((_, i) => rows.some((r) => typeof r[i] === 'number'));
  return [line(header, numericCols), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map((r) => line(r, numericCols))].join('\n');
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString('en-US');
  return String(round(x));
}
