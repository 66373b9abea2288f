/**
 * Bench 2: list_pending pages with 100,000 held messages (see fillHeld for how the file is filled). Each page
 * is timed four ways on the same file: through a spawned `mailgate serve` (MCP stdio), through the listPending
 * service in this process (what the tool handler calls), through SqliteStore.listPending (the query and row
 * mapping alone), and as the raw better-sqlite3 query with a statement prepared once (the baseline).
 * Cases are interleaved in rounds so machine noise spreads over all of them.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { evaluate } from '../src/gate/evaluate.js';
import { newMessageId, newMessageIdHeader } from '../src/ids.js';
import { listPending } from '../src/services/review.js';
import { inTransaction } from '../src/store/db.js';
import { encodeCursor } from '../src/store/messages.js';
import { SqliteStore } from '../src/domain/sqlite-store.js';
import { serveOverStdio } from './client.js';
import { BODY, openRaw } from './raw.js';
import { Acc, msSince, now, round, type Summary, timeLoop } from './stats.js';
import type { Principal } from '../src/services/context.js';

const REVIEWER: Principal = { id: 'cli:bench-reviewer', roles: ['reviewer'], mailboxes: 'all' };

export interface PendingOptions {
  held: number;
  /** Delivered messages in the same mailbox, older than every held one. */
  history: number;
  samples: number;
  warmup: number;
  rounds: number;
  /** Time box per case over all rounds, so a slow page cannot blow the run's budget (it gets fewer samples). */
  caseMs: number;
}

export interface PendingReport {
  held: number;
  history: number;
  fill: { ms: number; rows_per_s: number; db_mb: number };
  server_startup_ms: number;
  mcp_first_page_bytes: number;
  cases: Record<string, Summary>;
  /** p50 of each page through mailgate / p50 of the same page as a raw query. */
  ratios: Record<string, number>;
}

const AGENT = 'agent@mailgate.test';
const EMPTY = 'you@mailgate.test'; // autonomous in the sandbox default: never holds anything
const LIMIT = 50;

export async function benchPending(dir: string, o: PendingOptions): Promise<PendingReport> {
  const path = join(dir, 'pending.db');
  const fill = await fillHeld(path, o.held, o.history);

  const store = new SqliteStore(path);
  const app = await createApp(loadConfig({ db: path }, {})); // in-process services, no background worker
  const raw = openRaw(path);
  const server = await serveOverStdio(path);
  try {
    const cursorAt = (offset: number) => {
      const r = raw
        .prepare(`SELECT created_at, message_id FROM messages WHERE status = 'pending' ORDER BY created_at, message_id LIMIT 1 OFFSET ?`)
        .get(offset - 1) as { created_at: number; message_id: string };
      return { cursor: encodeCursor(r.created_at, r.message_id), created: r.created_at, id: r.message_id };
    };
    const second = cursorAt(LIMIT);
    const deep = cursorAt(Math.floor(o.held / 2));
    const sql = (extra: string) => raw.prepare(`SELECT * FROM messages WHERE status = 'pending' ${extra} ORDER BY created_at, message_id LIMIT ${LIMIT}`);
    const rawFirst = sql('');
    const rawAfter = sql('AND (created_at, message_id) > (?, ?)');
    const rawMailbox = sql('AND mailbox = ?');
    // One entry per page: the tool arguments (also the store query), the raw query, and the rows expected.
    const pages: Record<string, { q: { cursor?: string; mailbox?: string }; raw: () => unknown[]; rows: number }> = {
      first_page: { q: {}, raw: () => rawFirst.all(), rows: LIMIT },
      second_page: { q: { cursor: second.cursor }, raw: () => rawAfter.all(second.created, second.id), rows: LIMIT },
      deep_page: { q: { cursor: deep.cursor }, raw: () => rawAfter.all(deep.created, deep.id), rows: LIMIT },
      mailbox_filter: { q: { mailbox: AGENT }, raw: () => rawMailbox.all(AGENT), rows: LIMIT },
      empty_mailbox: { q: { mailbox: EMPTY }, raw: () => rawMailbox.all(EMPTY), rows: 0 },
    };
    const expect = (where: string, got: number, rows: number) => {
      if (got !== rows) throw new Error(`${where} returned ${got} messages, expected ${rows}`);
    };
    const cases: Record<string, () => unknown> = {};
    for (const [page, p] of Object.entries(pages)) {
      cases[`mcp_${page}`] = async () =>
        expect('list_pending', ((await server.call('list_pending', { limit: LIMIT, ...p.q })).messages as unknown[]).length, p.rows);
      cases[`service_${page}`] = async () =>
        expect('services listPending', (await listPending(app, REVIEWER, { limit: LIMIT, ...p.q })).messages.length, p.rows);
      cases[`store_${page}`] = async () =>
        expect('store.listPending', (await store.listPending({ limit: LIMIT, ...p.q, now: Date.now() })).messages.length, p.rows);
      cases[`raw_${page}`] = () => expect('raw query', p.raw().length, p.rows);
    }
    const samples = await measureInRounds(cases, o);
    const p50 = (k: string) => samples[k]!.p50_ms;
    const ratios: Record<string, number> = {};
    for (const page of Object.keys(pages)) {
      ratios[`mcp_${page}_p50`] = round(p50(`mcp_${page}`) / p50(`raw_${page}`));
      ratios[`service_${page}_p50`] = round(p50(`service_${page}`) / p50(`raw_${page}`));
      ratios[`store_${page}_p50`] = round(p50(`store_${page}`) / p50(`raw_${page}`));
    }
    // Not mailgate vs baseline but query vs query: a filtered page should cost about what the unfiltered one does.
    ratios.raw_mailbox_filter_vs_first_page_p50 = round(p50('raw_mailbox_filter') / p50('raw_first_page'));
    const bytes = await server.resultBytes('list_pending', { limit: LIMIT });
    return { held: o.held, history: o.history, fill, server_startup_ms: round(server.startupMs), mcp_first_page_bytes: bytes, cases: samples, ratios };
  } finally {
    await server.close();
    raw.close();
    await app.close();
    await store.close();
  }
}

async function measureInRounds(cases: Record<string, () => unknown>, o: PendingOptions): Promise<Record<string, Summary>> {
  const acc: Record<string, Acc> = {};
  for (const [name, op] of Object.entries(cases)) {
    await timeLoop(op, o.warmup, o.caseMs / o.rounds);
    acc[name] = new Acc();
  }
  const perRound = Math.ceil(o.samples / o.rounds);
  for (let r = 0; r < o.rounds; r++) {
    for (const [name, op] of Object.entries(cases)) {
      acc[name]!.add(await timeLoop(op, perRound, o.caseMs / o.rounds));
    }
  }
  return Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, v.summary()]));
}

/**
 * Creates the sandbox mailboxes the way `serve` does, submits one send through the real gate and store, then
 * clones that row in SQL with fresh ids and timestamps: every clone is the row the server writes for the same
 * content (so content_hash stays true), at a few µs a row instead of a full submit each. Clones have no audit
 * events, which list_pending never reads. `history` delivered messages, older than every held one, sit in the
 * same mailbox as a real one's sent mail would: a mailbox-filtered page must not have to walk past them.
 */
async function fillHeld(path: string, held: number, history: number): Promise<PendingReport['fill']> {
  const app = await createApp(loadConfig({ db: path }, {}));
  await app.close();
  const store = new SqliteStore(path);
  const start = now();
  // Two sends per millisecond, ending now: equal created_at values exercise the message_id tie-break.
  const first = Date.now() - Math.ceil(held / 2);
  try {
    const to = 'someone@example.com';
    const action = { kind: 'send' as const, recipients: [to], subject: 'Bench', isReply: false };
    const template = await store.submitMessage(
      {
        message_id: newMessageId(),
        message_id_header: newMessageIdHeader(AGENT),
        mailbox: AGENT,
        kind: 'send',
        content: { to: [to], cc: [], bcc: [], subject: 'Bench', text: BODY, html: null },
        actor: 'mcp:agent/mailgate-bench',
      },
      (mb, facts) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules }, { requireApproval: false }, action, facts),
      first,
    );
    if (template.message.status !== 'pending') throw new Error(`fill: the gate did not hold the send (status ${template.message.status})`);
    const clone = store.db.prepare(CLONE);
    const step = 20_000;
    for (let i = 1; i < held; i += step) {
      inTransaction(store.db, () => clone.run({ id: template.message.message_id, from: i, to: Math.min(held, i + step), at: first, spacing: 0.5, sent: 0 }));
    }
    for (let i = 0; i < history; i += step) {
      // One delivered message a second, ending before the first held one.
      inTransaction(store.db, () =>
        clone.run({ id: template.message.message_id, from: i, to: Math.min(history, i + step), at: first - history * 1000, spacing: 1000, sent: 1 }),
      );
    }
  } finally {
    await store.close();
  }
  const ms = msSince(start);
  return { ms: round(ms), rows_per_s: round((held + history) / (ms / 1000)), db_mb: round(statSync(path).size / 1e6) };
}

const CLONE = `WITH RECURSIVE n(i) AS (SELECT CAST(@from AS INTEGER) UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @to),
  t(at) AS (SELECT CAST(@at + i * @spacing AS INTEGER) FROM n)
  INSERT INTO messages (message_id, mailbox, kind, status, from_addr, to_addrs, cc_addrs, bcc_addrs, subject, text_body, html_body,
    message_id_header, content_hash, created_by, mode_at_submit, gate_code, gate_reason, notify, created_at, expires_at,
    decided_at, decided_by, attempts, sent_at, updated_at)
  SELECT 'msg_' || lower(hex(randomblob(10))), m.mailbox, m.kind, iif(@sent, 'sent', 'pending'), m.from_addr, m.to_addrs, m.cc_addrs,
    m.bcc_addrs, m.subject, m.text_body, m.html_body, '<' || lower(hex(randomblob(12))) || '@mailgate.test>', m.content_hash,
    m.created_by, m.mode_at_submit, m.gate_code, m.gate_reason, m.notify, t.at, iif(@sent, NULL, t.at + m.expires_at - m.created_at),
    iif(@sent, t.at, NULL), iif(@sent, 'cli:bench', NULL), CAST(@sent AS INTEGER), iif(@sent, t.at, NULL), t.at
  FROM messages m, t WHERE m.message_id = @id`;
