/**
 * Bench: what the policy engine costs a send. Each case is SqliteStore.submitMessage with the gate built as
 * src/services/send.ts builds it, on one real SQLite file with three gated_send mailboxes (so every draft is
 * held: one FULL-sync commit of message + audit event, whatever the policy says):
 *   off        dedupe_window 0 and every content hold off: only the suppression lookup, which cannot be turned off
 *   defaults   the shipped defaults: dedupe on, content holds on, no limits or lists
 *   everything every rate limit (set far above what the run reaches), allowed and blocked domains, 10,000
 *              suppression entries, the new_external_domain hold
 * Every mailbox holds the same history (10,000 sent messages over the last 23 hours, their recipients recorded as
 * correspondents), so the cases differ only in policy and the window counts of `everything` have rows to scan.
 * The baseline is raw.ts's single-row insert transaction on another file in the same directory; rounds are
 * interleaved so every case sees the same disk weather. The pure evaluate() call is timed separately (no I/O)
 * on big bodies and attachments, where the secrets scan dominates.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { evaluate } from '../src/gate/evaluate.js';
import { EMPTY_FACTS, type PolicySettings, resolvePolicy } from '../src/gate/policy/index.js';
import type { Action, Facts } from '../src/gate/types.js';
import { newMessageId, newMessageIdHeader } from '../src/ids.js';
import { inTransaction } from '../src/store/db.js';
import { SqliteStore } from '../src/domain/sqlite-store.js';
import type { Store } from '../src/store/store.js';
import { addSuppression } from '../src/store/suppressions.js';
import { BODY, baselineInserter, createBaselineTable, openRaw } from './raw.js';
import { BENCH_POLICY } from './client.js';
import { Acc, type Cell, formatTable, msSince, now, round, type Summary, timeLoop } from './stats.js';

export interface PolicyOptions {
  /** Sent messages already in each mailbox, spread over the last 23 hours. */
  history: number;
  /** Suppression entries of the `everything` mailbox (half addresses, half domains). */
  suppressions: number;
  warmup: number;
  /** Per case over all rounds. */
  maxOps: number;
  maxMs: number;
  rounds: number;
  /** Time box per pure evaluate() case. */
  pureMs: number;
}

export interface PolicyReport {
  history: number;
  suppressions: number;
  fill_ms: number;
  cases: { baseline_insert_txn: Summary; off: Summary; defaults: Summary; everything: Summary };
  /** Each case / the baseline and / `off`: throughput below 1 and latency above 1 mean slower. */
  ratios: Record<
    'off' | 'defaults' | 'everything',
    { ops_vs_baseline: number; p50_vs_baseline: number; ops_vs_off: number; p50_vs_off: number; p95_vs_off: number }
  >;
  /** evaluate() alone, defaults (secrets scan on), facts empty. */
  pure: Record<string, Summary & { mb_per_s: number }>;
}

const AGENT = 'mcp:agent/mailgate-bench';
const CUSTOMER_DOMAINS = 1000;
/** Every tenth draft goes to a domain the mailbox never wrote to: the new_external_domain lookup scans for nothing. */
const FRESH_EVERY = 10;

const MAILBOXES: Record<'off' | 'defaults' | 'everything', { address: string; policy: PolicySettings }> = {
  off: { address: 'off@bench.test', policy: { dedupe_window: 0, content_holds: { new_recipient: false, new_external_domain: false, secrets: false } } },
  defaults: { address: 'defaults@bench.test', policy: {} },
  everything: {
    address: 'everything@bench.test',
    policy: {
      dedupe_window: 600,
      // The schema's maximum: the counts are read and compared, and nothing is ever refused.
      rate_limits: { per_minute: 1_000_000, per_hour: 1_000_000, per_day: 1_000_000, per_recipient_per_hour: 1_000_000, per_recipient_per_day: 1_000_000 },
      // The matching entry last, so each recipient is compared with the whole list.
      allowed_domains: [...Array.from({ length: 49 }, (_, i) => `partner${i}.example.org`), '*.example'],
      blocked_domains: Array.from({ length: 50 }, (_, i) => `*.competitor${i}.example.net`),
      content_holds: { new_recipient: true, new_external_domain: true, secrets: true },
    },
  },
};
type CaseName = keyof typeof MAILBOXES;

export async function benchPolicy(dir: string, o: PolicyOptions): Promise<PolicyReport> {
  const store = new SqliteStore(join(dir, 'policy.db'));
  const raw = openRaw(join(dir, 'baseline-policy.db'));
  createBaselineTable(raw);
  const insert = baselineInserter(raw);
  try {
    const fillStart = now();
    for (const mb of Object.values(MAILBOXES)) await fillMailbox(store, mb.address, mb.policy, o.history);
    await fillSuppressions(store, MAILBOXES.everything.address, o.suppressions);
    const fillMs = msSince(fillStart);

    let serial = 0;
    const submitTo = (c: CaseName) => () => submitDraft(store, MAILBOXES[c].address, ++serial);
    const cases: [string, () => unknown][] = [
      ['baseline_insert_txn', insert],
      ['off', submitTo('off')],
      ['defaults', submitTo('defaults')],
      ['everything', submitTo('everything')],
    ];
    const acc = new Map(cases.map(([name]) => [name, new Acc()]));
    for (const [, op] of cases) for (let i = 0; i < o.warmup; i++) await op();
    for (let r = 0; r < o.rounds; r++) {
      for (const [name, op] of cases) acc.get(name)!.add(await timeLoop(op, Math.ceil(o.maxOps / o.rounds), o.maxMs / o.rounds));
    }
    const s = Object.fromEntries([...acc].map(([k, v]) => [k, v.summary()])) as PolicyReport['cases'];
    return {
      history: o.history,
      suppressions: o.suppressions,
      fill_ms: round(fillMs),
      cases: s,
      ratios: { off: ratiosOf(s.off, s), defaults: ratiosOf(s.defaults, s), everything: ratiosOf(s.everything, s) },
      pure: benchPure(o.pureMs),
    };
  } finally {
    raw.close();
    await store.close();
  }
}

function ratiosOf(c: Summary, s: PolicyReport['cases']): PolicyReport['ratios']['off'] {
  const b = s.baseline_insert_txn;
  return {
    ops_vs_baseline: round(c.ops_per_s / b.ops_per_s),
    p50_vs_baseline: round(c.p50_ms / b.p50_ms),
    ops_vs_off: round(c.ops_per_s / s.off.ops_per_s),
    p50_vs_off: round(c.p50_ms / s.off.p50_ms),
    p95_vs_off: round(c.p95_ms / s.off.p95_ms),
  };
}

/** The draft's recipient: a new address at a known customer domain, or (every FRESH_EVERY-th) at a new domain. */
const recipientFor = (n: number) => (n % FRESH_EVERY === 0 ? `someone@fresh${n}.example` : `someone+${n}@customer${n % CUSTOMER_DOMAINS}.example`);

/**
 * One distinct draft (identical ones within the dedupe window are refused) through the gate as send.ts builds it;
 * resolves to its message id. The commit happens within the call, before the first await (webhooks.ts relies on
 * that to queue a backlog without an event-loop turn).
 */
export async function submitDraft(store: Pick<Store, 'submitMessage'>, mailbox: string, n: number): Promise<string> {
  const to = recipientFor(n);
  const subject = `Bench ${n}`;
  const action: Action = {
    kind: 'send',
    recipients: [to],
    subject,
    isReply: false,
    mailbox,
    text: BODY,
    html: null,
    threadParticipants: null,
    attachments: [],
  };
  const header = newMessageIdHeader(mailbox);
  const r = await store.submitMessage(
    {
      message_id: newMessageId(),
      message_id_header: header,
      mailbox,
      kind: 'send',
      actor: AGENT,
      thread_key: header,
      content: { to: [to], cc: [], bcc: [], subject, text: BODY, html: null },
      policy: BENCH_POLICY,
    },
    (mb, facts, limits) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules, limits }, { requireApproval: false }, action, facts),
    Date.now(),
  );
  // Held by the mode or by a content hold; a block would mean the case measured a refusal, not a submit.
  if (r.message.status !== 'pending') throw new Error(`${mailbox}: draft ${n} was ${r.message.status} (${r.message.gate_code}: ${r.message.gate_reason})`);
  return r.message.message_id;
}

/**
 * Creates the mailbox, submits one real draft as a template, and clones it in SQL into `history` sent messages,
 * one recipient each (user{i}@customer{i % 1000}.example), evenly over the last 23 hours, with those recipients
 * recorded as correspondents as delivery would have. A few µs a row instead of a full submit each; the clones
 * have no audit events, which no policy lookup reads.
 */
async function fillMailbox(store: SqliteStore, address: string, policy: PolicySettings, history: number): Promise<void> {
  const t = Date.now();
  await store.createMailbox(
    {
      address,
      display_name: null,
      oversight_mode: 'gated_send',
      mode_source: 'bench',
      auto_approve_rules: [],
      pending_ttl_seconds: 72 * 3600,
      transport: 'sandbox',
      policy,
    },
    'cli:bench',
    t,
  );
  const template = newMessageId();
  await store.submitMessage(
    {
      message_id: template,
      message_id_header: newMessageIdHeader(address),
      mailbox: address,
      kind: 'send',
      actor: AGENT,
      content: { to: ['user0@customer0.example'], cc: [], bcc: [], subject: 'History', text: BODY, html: null },
    },
    () => ({ outcome: 'execute', code: 'mode_allows', reason: 'bench history', notify: false }),
    t - 23 * 3600_000,
  );
  const span = 23 * 3600_000 - 60_000; // ends a minute ago: the per-minute window holds only the run's own drafts
  inTransaction(store.db, () => {
    store.db.exec('CREATE TEMP TABLE history AS SELECT * FROM messages WHERE 0');
    // The template is the first history message; its clones get rowids 1 .. history - 1 and the times after it.
    store.db.prepare(`UPDATE messages SET status = 'sent', next_attempt_at = NULL, sent_at = created_at WHERE message_id = ?`).run(template);
    store.db
      .prepare(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < @count)
                      INSERT INTO history SELECT m.* FROM messages m, n WHERE m.message_id = @id`)
      .run({ id: template, count: history - 1 });
    store.db
      .prepare(`UPDATE history SET message_id = 'msg_' || lower(hex(randomblob(10))),
                        message_id_header = '<' || lower(hex(randomblob(12))) || '@bench.test>',
                        to_addrs = json_array('user' || rowid || '@customer' || (rowid % ${CUSTOMER_DOMAINS}) || '.example'),
                        dedupe_hash = lower(hex(randomblob(32))),
                        created_at = @start + rowid * @step, updated_at = @start + rowid * @step, sent_at = @start + rowid * @step`)
      .run({ start: t - 23 * 3600_000, step: Math.floor(span / history) });
    store.db.exec('INSERT INTO messages SELECT * FROM history; DROP TABLE history');
    store.db
      .prepare(`INSERT INTO correspondents (mailbox, address, first_seen, last_seen)
                      SELECT mailbox, to_addrs ->> '$[0]', created_at, created_at FROM messages WHERE mailbox = ? AND status = 'sent'
                      ON CONFLICT (mailbox, address) DO NOTHING`)
      .run(address);
    // As submit records them, so per-recipient windows have their real index to search.
    store.db
      .prepare(`INSERT INTO message_recipients (message_id, mailbox, address, created_at)
                      SELECT message_id, mailbox, to_addrs ->> '$[0]', created_at FROM messages WHERE mailbox = ? AND status = 'sent'
                      ON CONFLICT DO NOTHING`)
      .run(address);
  });
}

/** The entries through the store's own insert (with its audit events), all in one transaction. */
function fillSuppressions(store: SqliteStore, scope: string, count: number): Promise<void> {
  const t = Date.now();
  return store.driver.tx(async (q) => {
    for (let i = 0; i < count; i++) {
      const entry =
        i % 2 === 0
          ? { kind: 'address' as const, value: `gone${i}@customer${i % CUSTOMER_DOMAINS}.example` }
          : { kind: 'domain' as const, value: `spam${i}.example` };
      await addSuppression(q, { scope, ...entry, reason: 'bench', source: 'manual', created_by: 'cli:bench' }, t);
    }
  });
}

/**
 * evaluate() alone, as the store calls it, with the default policy (secrets scan on) and empty facts: a typical
 * draft, a 50 KB body, and a 5 MB attachment as text (a CSV) and as binary (the service scans every attachment's
 * bytes as latin1, whatever its type).
 */
function benchPure(maxMs: number): PolicyReport['pure'] {
  const limits = resolvePolicy(undefined, {});
  const facts: Facts = { knownContacts: new Set(), contactLists: new Map(), policy: EMPTY_FACTS(Date.now()) };
  const csv = (bytes: number) =>
    `date,order,customer,amount,note\n${Array.from(
      { length: Math.ceil(bytes / 60) },
      (_, i) => `2024-03-${String(1 + (i % 28)).padStart(2, '0')},A-${100000 + i},Customer ${i % 997},${(i * 7.31).toFixed(2)},shipped on time\n`,
    )
      .join('')
      .slice(0, bytes)}`;
  const prose = (bytes: number) => BODY.repeat(Math.ceil(bytes / BODY.length)).slice(0, bytes);
  const attachment = (filename: string, text: string) => [{ filename, content_type: 'application/octet-stream', size: text.length, text }];
  const drafts: Record<string, { text: string; attachments: ReturnType<typeof attachment> | []; clean: boolean }> = {
    typical_draft: { text: BODY, attachments: [], clean: true },
    body_50kb: { text: prose(50 * 1024), attachments: [], clean: true },
    attachment_5mb_text: { text: BODY, attachments: attachment('orders.csv', csv(5 * 1024 * 1024)), clean: true },
    // Random bytes may by chance look like a key prefix; its hits are not checked.
    attachment_5mb_binary: { text: BODY, attachments: attachment('scan.pdf', randomBytes(5 * 1024 * 1024).toString('latin1')), clean: false },
  };
  const out: PolicyReport['pure'] = {};
  for (const [name, d] of Object.entries(drafts)) {
    const action: Action = {
      kind: 'send',
      recipients: ['someone@customer1.example'],
      subject: 'Bench',
      isReply: false,
      mailbox: 'defaults@bench.test',
      text: d.text,
      html: null,
      threadParticipants: null,
      attachments: d.attachments,
    };
    const call = () => {
      const decision = evaluate({ mode: 'gated_send', rules: [], limits }, { requireApproval: false }, action, facts);
      if (d.clean && decision.hits?.length) throw new Error(`pure ${name}: unexpected policy hits ${JSON.stringify(decision.hits)}`);
    };
    call(); // warm the regexes
    const t = new Acc();
    t.add(timeLoopSync(call, maxMs));
    const s = t.summary();
    const bytes = d.text.length + d.attachments.reduce((a, x) => a + x.text.length, 0);
    out[name] = { ...s, mb_per_s: round(bytes / 1e6 / (s.p50_ms / 1000)) };
  }
  return out;
}

/** timeLoop for a synchronous call: at least 5 samples, then until the time box closes. */
function timeLoopSync(op: () => void, maxMs: number): { samples: number[]; wallMs: number } {
  const samples: number[] = [];
  const start = now();
  while (samples.length < 5 || (msSince(start) < maxMs && samples.length < 100_000)) {
    const t = now();
    op();
    samples.push(msSince(t));
  }
  return { samples, wallMs: msSince(start) };
}

const HEADER = ['', 'n', 'ops/s', 'p50 ms', 'p95 ms', 'p99 ms', 'x baseline ops', 'x off p50', 'x off p95'];
const PURE_HEADER = ['', 'n', 'calls/s', 'p50 ms', 'p95 ms', 'p99 ms', 'MB/s at p50'];

export function formatPolicy(p: PolicyReport): string {
  const c = p.cases;
  const row = (label: string, s: Summary, k?: CaseName): Cell[] => [
    label,
    s.n,
    s.ops_per_s,
    s.p50_ms,
    s.p95_ms,
    s.p99_ms,
    k ? p.ratios[k].ops_vs_baseline : '',
    k ? p.ratios[k].p50_vs_off : '',
    k ? p.ratios[k].p95_vs_off : '',
  ];
  const pure = (label: string, s: Summary & { mb_per_s: number }): Cell[] => [label, s.n, s.ops_per_s, s.p50_ms, s.p95_ms, s.p99_ms, s.mb_per_s];
  return [
    `policy engine per submit: SqliteStore.submitMessage + the real gate, gated_send (held), ${p.history.toLocaleString('en-US')} sent messages of ` +
      `history per mailbox, ${p.suppressions.toLocaleString('en-US')} suppression entries on 'everything' (filled in ${Math.round(p.fill_ms)} ms)`,
    formatTable(HEADER, [
      row('baseline: raw 1-row insert txn', c.baseline_insert_txn),
      row('store: policy off (dedupe 0, holds off)', c.off, 'off'),
      row('store: policy defaults', c.defaults, 'defaults'),
      row('store: everything on', c.everything, 'everything'),
    ]),
    `p50 vs baseline: off ${p.ratios.off.p50_vs_baseline}x, defaults ${p.ratios.defaults.p50_vs_baseline}x, everything ${p.ratios.everything.p50_vs_baseline}x`,
    '',
    'evaluate() alone (no I/O; default policy, secrets scan on; it runs inside the submit transaction)',
    formatTable(PURE_HEADER, [
      pure('typical draft', p.pure.typical_draft!),
      pure('50 KB body', p.pure.body_50kb!),
      pure('5 MB text attachment (CSV)', p.pure.attachment_5mb_text!),
      pure('5 MB binary attachment (as latin1)', p.pure.attachment_5mb_binary!),
    ]),
  ].join('\n');
}
