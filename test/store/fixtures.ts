/**
 * Shared setup for the store suite: a real SQLite file per test in a temp dir, mailboxes, a submit helper
 * that goes through the real gate, and raw-SQL counters used to prove what was (not) written.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import ts from 'typescript';
import { afterEach, beforeEach } from 'vitest';
import { evaluate } from '../../src/gate/evaluate.js';
import type { PolicySettings } from '../../src/gate/policy/index.js';
import type { AutoApproveRule } from '../../src/gate/rules/index.js';
import type { Action } from '../../src/gate/types.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import { sandboxTransport } from '../../src/services/sandbox.js';
import { DeliveryWorker } from '../../src/services/deliver.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { GateFn, MessageContent, Store, SubmitRequest, SubmitResult } from '../../src/store/store.js';
import type { OversightMode } from '../../src/values.js';
import { tempDir } from '../helpers/tmp.js';

export const T0 = 1_700_000_000_000;
export const TTL_S = 3600;
export const OPERATOR = 'operator:test';
export const AGENT = 'agent:test';

export const ALICE = 'alice@sandbox.test';
export const BOB = 'bob@sandbox.test';
export const CAROL = 'carol@sandbox.test';
export const OUTSIDER = 'someone@external.example';

/**
 * One fresh database per test, for suites that need nothing more: registers the hooks and returns a holder
 * whose `s` (a connection) and `t` (the file, for more connections) are set before each test.
 */
export function useStore(setup: (s: SqliteStore) => Promise<unknown> = async () => undefined) {
  const holder = {} as { t: ReturnType<typeof testDb>; s: SqliteStore };
  beforeEach(async () => {
    holder.t = testDb();
    holder.s = holder.t.open();
    await setup(holder.s);
  });
  afterEach(async () => {
    await holder.t.close();
  });
  return holder;
}

/** A fresh temp dir holding one database file; `open()` gives another connection (a second "process"). */
export function testDb() {
  const dir = tempDir('mailgate-store-');
  const path = dir.file('mailgate.db');
  const opened: SqliteStore[] = [];
  return {
    dir,
    path,
    open(opts?: { busyTimeoutMs?: number }): SqliteStore {
      const s = new SqliteStore(path, opts);
      opened.push(s);
      return s;
    },
    async close() {
      for (const s of opened) await s.close();
      dir.cleanup();
    },
  };
}

/** Two connections (two "processes") on one fresh file, with the given mailboxes created through the first. */
export async function twoConnections(mailboxes: readonly (readonly [string, OversightMode])[]) {
  const t = testDb();
  const a = t.open();
  const b = t.open();
  for (const [address, mode] of mailboxes) await addMailbox(a, address, mode);
  return { t, a, b };
}

export async function addMailbox(
  store: SqliteStore,
  address: string,
  mode: OversightMode = 'gated_send',
  opts: { rules?: AutoApproveRule[]; ttl?: number; now?: number; policy?: PolicySettings } = {},
) {
  return store.createMailbox(
    {
      address,
      display_name: null,
      oversight_mode: mode,
      mode_source: 'test',
      auto_approve_rules: opts.rules ?? [],
      pending_ttl_seconds: opts.ttl ?? TTL_S,
      transport: 'sandbox',
      policy: opts.policy ?? {},
    },
    OPERATOR,
    opts.now ?? T0,
  );
}

export function content(overrides: Partial<MessageContent> = {}): MessageContent {
  return { to: [OUTSIDER], cc: [], bcc: [], subject: 'Quarterly numbers', text: 'Hello there', html: null, ...overrides };
}

/** The gate exactly as the send service builds it (policy defaults and the mailbox's policy), with require_approval off. */
export function gateFor(c: MessageContent, isReply = false, mailbox?: string): GateFn {
  const action: Action = {
    kind: 'send',
    recipients: [...new Set([...c.to, ...c.cc, ...c.bcc])],
    subject: c.subject,
    isReply,
    text: c.text,
    html: c.html,
    ...(mailbox ? { mailbox } : {}),
  };
  return (mb, facts, limits) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules, limits }, { requireApproval: false }, action, facts);
}

export function submit(
  store: SqliteStore,
  mailbox: string,
  c: MessageContent = content(),
  opts: { now?: number; key?: string | null; actor?: string; policy?: PolicySettings } = {},
): Promise<SubmitResult> {
  const req: SubmitRequest = {
    message_id: newMessageId(),
    message_id_header: newMessageIdHeader(mailbox),
    mailbox,
    kind: 'send',
    content: c,
    idempotency_key: opts.key ?? null,
    actor: opts.actor ?? AGENT,
    ...(opts.policy ? { policy: opts.policy } : {}),
  };
  return store.submitMessage(req, gateFor(c, false, mailbox), opts.now ?? T0);
}

let heldSerial = 0;

/**
 * The global policy of the bulk helpers below: they draft hundreds of messages at one instant on one mailbox,
 * which the default loop guards (60 drafts a minute, 1,000 held) exist to refuse.
 */
export const BULK_POLICY: PolicySettings = { rate_limits: { per_minute: 1_000_000 }, max_pending: 1_000_000 };

/**
 * Submits n sends that the gate holds (the mailbox must be gated). Each has its own subject, so the duplicate
 * policy (identical drafts within a window are blocked) never sees two alike. Returns their ids.
 */
export async function holdMany(store: SqliteStore, mailbox: string, n: number, now = T0, c: Partial<MessageContent> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await submit(store, mailbox, content({ ...c, subject: `held ${++heldSerial}` }), { now, policy: BULK_POLICY });
    if (r.message.status !== 'pending') throw new Error(`expected pending, got ${r.message.status}: ${r.message.gate_reason}`);
    ids.push(r.message.message_id);
  }
  return ids;
}

/** Submits n sends and approves them, so they are ready for delivery. */
export async function approveMany(store: SqliteStore, mailbox: string, n: number, c: (i: number) => MessageContent, now = T0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await submit(store, mailbox, c(i), { now, policy: BULK_POLICY });
    await store.decideMessage(r.message.message_id, { action: 'approve', actor: 'reviewer:test' }, now);
    ids.push(r.message.message_id);
  }
  return ids;
}

export const count = (s: SqliteStore, sql: string, ...params: unknown[]) =>
  s.db
    .prepare(sql)
    .pluck()
    .get(...params) as number;
export const messageCount = (s: SqliteStore) => count(s, 'SELECT count(*) FROM messages');
export const auditCount = (s: SqliteStore) => count(s, 'SELECT count(*) FROM audit_events');

/** The actions recorded for one message, oldest first. */
export function auditActions(s: SqliteStore, messageId: string): string[] {
  return s.db.prepare('SELECT action FROM audit_events WHERE message_id = ? ORDER BY seq').pluck().all(messageId) as string[];
}

const DECISION_ACTIONS = ['message.approved', 'message.rejected', 'message.cancelled', 'message.expired'] as const;
export const DECISION_STATUS: Record<string, string> = {
  'message.approved': 'approved',
  'message.rejected': 'rejected',
  'message.cancelled': 'cancelled',
  'message.expired': 'expired',
};

/** Decision events for one message (approved / rejected / cancelled / expired). */
export function decisionEvents(s: SqliteStore, messageId: string): string[] {
  return auditActions(s, messageId).filter((a) => (DECISION_ACTIONS as readonly string[]).includes(a));
}

/**
 * A normal history of 20 audit events through real store operations: mailboxes, held sends, approve with edits,
 * reject, cancel, an expiry, mode changes, sandbox deliveries, a read. Returns the number of events.
 */
export async function auditHistory(s: SqliteStore): Promise<number> {
  await addMailbox(s, ALICE);
  await addMailbox(s, BOB, 'autonomous');
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await submit(s, ALICE, content({ subject: `s${i}` }), { now: T0 + i })).message.message_id);
  await submit(s, BOB, content(), { now: T0 + 5 });
  await s.decideMessage(ids[0]!, { action: 'approve', actor: 'reviewer:r', edits: { subject: 'edited' } }, T0 + 10);
  await s.decideMessage(ids[1]!, { action: 'reject', actor: 'reviewer:r', reason: 'no' }, T0 + 11);
  await s.decideMessage(ids[2]!, { action: 'cancel', actor: 'agent:a' }, T0 + 12);
  await s.expireDue(T0 + TTL_S * 1000 + 3, 10);
  await s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'trusted now', T0 + 20);
  const later = T0 + TTL_S * 1000 + 30;
  await submit(s, ALICE, content({ to: [BOB], subject: 'after the change' }), { now: later });
  await sandboxWorker(s, () => later).tick();
  const [email] = await s.listEmails({ mailbox: BOB, folder: 'INBOX', unread_only: false, limit: 1 });
  await s.recordRead(email!, 'agent:bob', later + 1);
  await s.updateMailbox(BOB, { oversight_mode: 'gated_send' }, OPERATOR, 'too chatty', later + 2);
  await submit(s, BOB, content({ subject: 'held by bob' }), { now: later + 3 });
  return auditCount(s);
}

/** Drops the append-only triggers, as someone with write access to the file can (they are a guardrail, not evidence). */
export function dropAuditTriggers(s: SqliteStore): void {
  s.db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
}

export const auditRow = (s: SqliteStore, seq: number) => s.db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as Record<string, unknown>;

/** Catches a rejected promise and returns the error, failing if it resolved. */
export async function failure(p: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

/** Seeded PRNG so a failing race trial can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Runs the operations concurrently, each after a number of microtask gaps (0-3) drawn from the seeded generator,
 * so trials cover different interleavings of their synchronous transactions and can be replayed from the seed.
 */
export function race<T extends readonly unknown[]>(
  next: () => number,
  ...ops: { [K in keyof T]: () => Promise<T[K]> }
): Promise<{ [K in keyof T]: PromiseSettledResult<T[K]> }> {
  const gap = async (n: number) => {
    for (let i = 0; i < n; i++) await Promise.resolve();
  };
  const gaps = ops.map(() => Math.floor(next() * 4));
  return Promise.allSettled(ops.map((op, i) => gap(gaps[i]!).then(op))) as never;
}

/** A DeliveryWorker on the sandbox transport (local INBOX copies, outside addresses captured), with its own clock. */
export function sandboxWorker(store: Store, clock: () => number): DeliveryWorker {
  const transport = sandboxTransport(store, clock);
  return new DeliveryWorker(store, { canServe: () => true, forMailbox: () => transport, close: async () => {} }, clock);
}

/** What delivery left of one message: recipients' INBOX copies, the sender's Sent copy, captured recipients, sent events. */
export function deliveredCopies(s: SqliteStore, messageId: string) {
  return {
    inbox: count(s, "SELECT count(*) FROM emails WHERE outbound_message_id = ? AND delivery_role = 'inbox'", messageId),
    sent: count(s, "SELECT count(*) FROM emails WHERE outbound_message_id = ? AND delivery_role = 'sent'", messageId),
    captured: count(s, 'SELECT count(*) FROM captured_mail WHERE message_id = ?', messageId),
    sent_events: count(s, "SELECT count(*) FROM audit_events WHERE message_id = ? AND action = 'message.sent'", messageId),
  };
}

export const NOTHING_DELIVERED = { inbox: 0, sent: 0, captured: 0, sent_events: 0 };

/** A CHECK clause with white space folded and its IN lists sorted, so equal constraints compare equal however written. */
function normalCheck(clause: string): string {
  return clause
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .replace(/IN \(('[^']*'(?:, '[^']*')*)\)/g, (_, list: string) => `IN (${list.split(', ').sort().join(', ')})`);
}

/** Every CHECK clause of a CREATE TABLE statement (comments removed, parentheses balanced). */
function checksOf(sql: string): string[] {
  const text = sql.replace(/--[^\n]*/g, '');
  const out: string[] = [];
  for (let at = text.indexOf('CHECK ('); at >= 0; at = text.indexOf('CHECK (', at + 1)) {
    let depth = 0;
    let end = at + 6;
    do {
      depth += text[end] === '(' ? 1 : text[end] === ')' ? -1 : 0;
      end++;
    } while (depth > 0 && end < text.length);
    out.push(normalCheck(text.slice(at, end)));
  }
  return out.sort();
}

/**
 * What makes two schemas the same for the code that uses them: the objects, each table's columns (by name:
 * ALTER TABLE appends, so only the order may differ), CHECK, UNIQUE and foreign key constraints, STRICT and
 * AUTOINCREMENT, and the SQL of every index and trigger.
 */
export function schemaShape(db: Database.Database) {
  const objects = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as {
    type: string;
    name: string;
    tbl_name: string;
    sql: string | null;
  }[];
  const tables = objects.filter((o) => o.type === 'table' && !o.name.startsWith('emails_fts')).map((o) => o.name);
  return {
    objects: objects.map((o) => `${o.type}:${o.name} on ${o.tbl_name}`),
    tables: Object.fromEntries(
      tables.map((table) => [
        table,
        {
          columns: db.prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY name').all(table),
          checks: checksOf(objects.find((o) => o.name === table)!.sql!),
          foreign_keys: db.prepare('SELECT "from", "table", "to" FROM pragma_foreign_key_list(?) ORDER BY "from"').all(table),
          strict: db.prepare("SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = ?").pluck().get(table),
          autoincrement: /AUTOINCREMENT/i.test(objects.find((o) => o.name === table)!.sql!),
          // PRIMARY KEY and UNIQUE constraints, by the columns they cover (their automatic index names may differ).
          unique: (
            db
              .prepare(`SELECT origin || ':' || (SELECT group_concat(name) FROM pragma_index_info(l.name)) FROM pragma_index_list(?) l
                           WHERE origin IN ('pk', 'u')`)
              .pluck()
              .all(table) as string[]
          ).sort(),
        },
      ]),
    ),
    sql: objects.filter((o) => o.type === 'index' || o.type === 'trigger').map((o) => `${o.name}: ${(o.sql ?? '').replace(/\s+/g, ' ')}`),
  };
}

/** The schema version a database file records. */
export const schemaVersionOf = (db: Database.Database) => db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().all();

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Transpiles src/ into plain ESM under `outDir` (with schema.sql and a node_modules link), so worker threads,
 * which vitest does not transform, can run the real store code in parallel with true lock contention.
 * Returns the file URL prefix of the transpiled src/.
 */
export function transpileSrc(outDir: string): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
  for (const file of walk(join(ROOT, 'src'))) {
    const out = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    writeFileSync(out, js);
  }
  writeFileSync(join(outDir, 'schema.sql'), readFileSync(join(ROOT, 'schema.sql')));
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return `file://${join(outDir, 'src')}/`;
}
