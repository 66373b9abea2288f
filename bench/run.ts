/**
 * `npm run bench`: mailgate's load figures, each beside a baseline measured in the same run: raw better-sqlite3
 * on the same disk for send_email and list_pending; raw imapflow and nodemailer against the same private
 * Dovecot + Postfix for check_inbox, search_email, mail_wait and delivery (skipped, saying why, where those
 * servers cannot run). Compare the ratios, not the absolute numbers: machines are shared and noisy.
 * Prints a table, then the same figures as one JSON object on the last line of stdout.
 * Also the policy engine's cost per submit (bench/policy.ts) and webhook delivery against raw fetch POSTs to the
 * same 127.0.0.1 receiver (bench/webhooks.ts). And one vs three instances on a private PostgreSQL cluster and on one
 * SQLite file, beside raw `pg` and better-sqlite3 commits (bench/postgres.ts; skipped, saying why, without PostgreSQL).
 * MAILGATE_BENCH_QUICK=1 shrinks everything for a smoke run. MAILGATE_BENCH_ONLY=inbox,reply (any of send,
 * pending, policy, webhooks, postgres, inbox, reply, delivery, peer) runs only those parts. `peer`: mailgate against
 * @codefuturist/email-mcp on the same private Dovecot/Postfix (bench/peer.ts, issue 14).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setLogLevel } from '../src/log.js';
import { benchPending, type PendingReport } from './pending.js';
import { benchPolicy, formatPolicy } from './policy.js';
import { formatMultiInstance } from './multi-report.js';
import { benchPeer } from './peer.js';
import { formatPeer } from './peer-report.js';
import { benchMultiInstance } from './postgres.js';
import { benchReal, formatReal } from './real.js';
import { benchSend, type SendReport } from './send.js';
import { type Cell, formatTable, msSince, now, round, type Summary } from './stats.js';
import { benchWebhooks, formatWebhooks } from './webhooks.js';

const quick = process.env.MAILGATE_BENCH_QUICK === '1';
const PARTS = ['send', 'pending', 'policy', 'webhooks', 'postgres', 'inbox', 'reply', 'delivery', 'peer'] as const;
const only = (process.env.MAILGATE_BENCH_ONLY ?? PARTS.join(','))
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);
for (const p of only) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`MAILGATE_BENCH_ONLY: unknown part '${p}'; parts: ${PARTS.join(', ')}`);
const runs = (part: (typeof PARTS)[number]) => only.includes(part);

async function main(): Promise<void> {
  setLogLevel('warn'); // the fill's own mailbox-creation lines; the spawned servers log at their default level
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-bench-'));
  const start = now();
  try {
    process.stderr.write(`bench: working in ${dir}\n`);
    if (runs('send')) process.stderr.write('bench: send_email ...\n');
    const send = !runs('send')
      ? null
      : await benchSend(
          dir,
          quick
            ? { warmup: 20, maxOps: 200, maxMs: 3_000, rounds: 2, concurrency: 8 }
            : { warmup: 100, maxOps: 2_000, maxMs: 10_000, rounds: 8, concurrency: 8 },
        );
    if (runs('pending')) process.stderr.write('bench: list_pending (filling the queue) ...\n');
    const pending = !runs('pending')
      ? null
      : await benchPending(
          dir,
          quick
            ? { held: 10_000, history: 10_000, samples: 40, warmup: 5, rounds: 2, caseMs: 1_000 }
            : { held: 100_000, history: 100_000, samples: 200, warmup: 20, rounds: 4, caseMs: 3_000 },
        );
    if (runs('policy')) process.stderr.write('bench: policy engine (filling history and suppressions) ...\n');
    const policy = !runs('policy')
      ? null
      : await benchPolicy(
          dir,
          quick
            ? { history: 10_000, suppressions: 10_000, warmup: 20, maxOps: 300, maxMs: 3_000, rounds: 3, pureMs: 500 }
            : { history: 10_000, suppressions: 10_000, warmup: 100, maxOps: 2_000, maxMs: 10_000, rounds: 8, pureMs: 3_000 },
        );
    if (runs('webhooks')) process.stderr.write('bench: webhook delivery ...\n');
    const webhooks = !runs('webhooks')
      ? null
      : await benchWebhooks(dir, quick ? { events: 50, rounds: 2, warmup: 10 } : { events: 200, rounds: 4, warmup: 20 });
    if (runs('postgres')) process.stderr.write('bench: one and three instances on PostgreSQL and SQLite ...\n');
    const multi = !runs('postgres')
      ? null
      : await benchMultiInstance(dir, quick ? { lanes: 9, caseMs: 500, rounds: 1, warmupMs: 300 } : { lanes: 9, caseMs: 1_250, rounds: 2, warmupMs: 1_000 });
    const real = !(runs('inbox') || runs('reply') || runs('delivery'))
      ? null
      : await benchReal(dir, {
          inbox: !runs('inbox')
            ? null
            : quick
              ? { messages: 1_000, repeats: 20, searchRepeats: 3, maxMs: 3_000 }
              : { messages: 10_000, repeats: 100, searchRepeats: 10, maxMs: 10_000 },
          reply: !runs('reply') ? null : { trials: quick ? 3 : 20 },
          delivery: !runs('delivery') ? null : { messages: quick ? 30 : 200, inFlight: 8 },
        });
    const peer = !runs('peer')
      ? null
      : await benchPeer(dir, {
          sizes: quick ? [2_000, 10_000] : [10_000, 100_000],
          measure: quick
            ? { trials: 3, repeats: 30, searchRepeats: 5, reads: 10, sends: 5, indexWaitMs: 60_000 }
            : { trials: 7, repeats: 30, searchRepeats: 10, reads: 30, sends: 10, indexWaitMs: 300_000 },
          largeTrials: quick ? 2 : 3,
        });
    const total = msSince(start);
    process.stdout.write(
      `${[
        send && reportSend(send),
        pending && reportPending(pending),
        policy && formatPolicy(policy),
        webhooks && formatWebhooks(webhooks),
        multi && formatMultiInstance(multi),
        real && formatReal(real),
        peer && formatPeer(peer),
      ]
        .filter(Boolean)
        .join('\n\n')}\n\n`,
    );
    process.stdout.write(
      `${JSON.stringify({
        bench: 'mailgate',
        quick,
        parts: only,
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: cpus().length,
        at: new Date().toISOString(),
        total_ms: round(total),
        send_email: send,
        list_pending: pending,
        policy,
        webhooks,
        multi_instance: multi,
        real_mail: real,
        peer,
      })}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const row = (label: string, s: Summary): Cell[] => [label, s.n, s.ops_per_s, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms];
const HEADER = ['', 'n', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'];

function reportSend(send: SendReport): string {
  const r = send.ratios;
  return [
    'send_email, gated (held as pending), spawned `mailgate serve` over stdio',
    formatTable(HEADER, [
      row('mailgate, sequential', send.mailgate_sequential),
      row(`mailgate, ${send.mailgate_concurrent.in_flight} in flight`, send.mailgate_concurrent),
      row('baseline: raw 1-row insert txn', send.baseline_insert_txn),
    ]),
    `ratio mailgate/baseline: throughput ${r.sequential_ops}x sequential, ${r.concurrent_ops}x with ` +
      `${send.mailgate_concurrent.in_flight} in flight; latency p50 ${r.sequential_p50}x, p95 ${r.sequential_p95}x`,
  ].join('\n');
}

function reportPending(p: PendingReport): string {
  const c = p.cases;
  const pageRows: [string, string][] = [
    ['first page', 'first_page'],
    ['second page (cursor)', 'second_page'],
    [`deep page (row ${p.held / 2})`, 'deep_page'],
    ['mailbox filter (all held)', 'mailbox_filter'],
    ['mailbox with 0 held', 'empty_mailbox'],
  ];
  return [
    `list_pending, limit 50, ${p.held.toLocaleString('en-US')} held + ${p.history.toLocaleString('en-US')} delivered in the same mailbox ` +
      `(filled in ${Math.round(p.fill.ms)} ms, ${p.fill.rows_per_s} rows/s, ${p.fill.db_mb} MB; server ready in ${p.server_startup_ms} ms; ` +
      `a first page is ${Math.round(p.mcp_first_page_bytes / 1024)} KiB of JSON-RPC result)`,
    formatTable(
      HEADER,
      pageRows.flatMap(([label, k]) => [
        row(`mcp stdio: ${label}`, c[`mcp_${k}`]!),
        row(`service:   ${label}`, c[`service_${k}`]!),
        row(`store:     ${label}`, c[`store_${k}`]!),
        row(`raw query: ${label}`, c[`raw_${k}`]!),
      ]),
    ),
    `ratio p50 mailgate/raw query (same page): ${pageRows.map(([, k]) => `${k} mcp ${p.ratios[`mcp_${k}_p50`]}x service ${p.ratios[`service_${k}_p50`]}x store ${p.ratios[`store_${k}_p50`]}x`).join('; ')}`,
    `raw query, mailbox filter vs unfiltered first page: ${p.ratios.raw_mailbox_filter_vs_first_page_p50}x`,
  ].join('\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
