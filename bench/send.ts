/**
 * Bench 1: gated send_email calls through a spawned `mailgate serve` (agent@mailgate.test is gated_send in the
 * sandbox default, so every send is held as pending: one FULL-sync commit of message + audit event per call),
 * beside one committed single-row insert transaction per op on a raw better-sqlite3 file in the same directory.
 * fsync latency on a shared disk drifts by whole milliseconds within a minute, so baseline, sequential and
 * concurrent runs are interleaved in rounds and each side sees the same disk weather.
 */
import { join } from 'node:path';
import { sandboxConfig, serveOverStdio } from './client.js';
import { BODY, baselineInserter, createBaselineTable, openRaw } from './raw.js';
import { Acc, round, type Summary, timeConcurrent, timeLoop } from './stats.js';

export interface SendOptions {
  warmup: number;
  /** Per case (baseline, sequential, concurrent), over all rounds. */
  maxOps: number;
  maxMs: number;
  rounds: number;
  concurrency: number;
}

export interface SendReport {
  mailgate_sequential: Summary;
  mailgate_concurrent: Summary & { in_flight: number };
  baseline_insert_txn: Summary;
  /** mailgate / baseline: throughput below 1 and latency above 1 mean mailgate is slower. */
  ratios: { sequential_ops: number; sequential_p50: number; sequential_p95: number; concurrent_ops: number };
  held_rows: number;
}

export async function benchSend(dir: string, o: SendOptions): Promise<SendReport> {
  const raw = openRaw(join(dir, 'baseline-send.db'));
  createBaselineTable(raw);
  const insert = baselineInserter(raw);
  const dbPath = join(dir, 'send.db');
  const server = await serveOverStdio(dbPath, 'agent', { config: sandboxConfig(join(dir, 'send.json')) });
  let held = 0;
  let serial = 0;
  // Every send distinct (lanes reuse indexes): identical drafts within the dedupe window are refused.
  const send = async (_i: number) => {
    const n = ++serial;
    const r = await server.call('send_email', {
      mailbox: 'agent@mailgate.test',
      to: `someone+${n}@example.com`,
      subject: `Bench ${n}`,
      text: BODY,
    });
    if (r.status !== 'pending') throw new Error(`send_email returned status ${String(r.status)}, expected pending (is agent@mailgate.test still gated_send?)`);
    held++;
  };
  const base = new Acc();
  const seq = new Acc();
  const conc = new Acc();
  try {
    for (let i = 0; i < o.warmup; i++) {
      insert();
      await send(-1 - i);
    }
    const ops = Math.ceil(o.maxOps / o.rounds);
    const ms = o.maxMs / o.rounds;
    for (let r = 0; r < o.rounds; r++) {
      base.add(await timeLoop(insert, ops, ms));
      seq.add(await timeLoop(send, ops, ms));
      conc.add(await timeConcurrent(send, o.concurrency, ops, ms));
    }
  } finally {
    await server.close();
    raw.close();
  }

  const check = openRaw(dbPath);
  const pendingRows = check.prepare("SELECT count(*) FROM messages WHERE status = 'pending'").pluck().get() as number;
  check.close();
  if (pendingRows !== held) throw new Error(`the server acknowledged ${held} held sends but the database has ${pendingRows} pending rows`);

  const b = base.summary();
  const s = seq.summary();
  const c = conc.summary();
  return {
    mailgate_sequential: s,
    mailgate_concurrent: { ...c, in_flight: o.concurrency },
    baseline_insert_txn: b,
    ratios: {
      sequential_ops: round(s.ops_per_s / b.ops_per_s),
      sequential_p50: round(s.p50_ms / b.p50_ms),
      sequential_p95: round(s.p95_ms / b.p95_ms),
      concurrent_ops: round(c.ops_per_s / b.ops_per_s),
    },
    held_rows: pendingRows,
  };
}
