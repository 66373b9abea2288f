/**
 * Shared setup for the store suite: a real SQLite file per test in a temp dir, mailboxes, a submit helper
 * that goes through the real gate, and raw-SQL counters used to prove what was (not) written.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { evaluate } from '../../src/gate/evaluate.js';
import type { AutoApproveRule } from '../../src/gate/rules/index.js';
import type { Action } from '../../src/gate/types.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { GateFn, MessageContent, SubmitRequest, SubmitResult } from '../../src/store/store.js';
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

export async function addMailbox(
  store: SqliteStore, address: string, mode: OversightMode = 'gated_send',
  opts: { rules?: AutoApproveRule[]; ttl?: number; now?: number } = {},
) {
  return store.createMailbox({
    address, display_name: null, oversight_mode: mode, mode_source: 'test', auto_approve_rules: opts.rules ?? [],
    pending_ttl_seconds: opts.ttl ?? TTL_S, transport: 'sandbox',
  }, OPERATOR, opts.now ?? T0);
}

export function content(overrides: Partial<MessageContent> = {}): MessageContent {
  return { to: [OUTSIDER], cc: [], bcc: [], subject: 'Quarterly numbers', text: 'Hello there', html: null, ...overrides };
}

/** The gate exactly as the send service builds it, with require_approval off. */
export function gateFor(c: MessageContent, isReply = false): GateFn {
  const action: Action = { kind: 'send', recipients: [...new Set([...c.to, ...c.cc, ...c.bcc])], subject: c.subject, isReply };
  return (mailbox, facts) => evaluate({ mode: mailbox.oversight_mode, rules: mailbox.auto_approve_rules }, { requireApproval: false }, action, facts);
}

export function submit(
  store: SqliteStore, mailbox: string, c: MessageContent = content(),
  opts: { now?: number; key?: string | null; actor?: string } = {},
): Promise<SubmitResult> {
  const req: SubmitRequest = {
    message_id: newMessageId(), message_id_header: newMessageIdHeader(mailbox), mailbox, kind: 'send', content: c,
    idempotency_key: opts.key ?? null, actor: opts.actor ?? AGENT,
  };
  return store.submitMessage(req, gateFor(c), opts.now ?? T0);
}

/** Submits n sends that the gate holds (the mailbox must be gated). Returns their ids. */
export async function holdMany(store: SqliteStore, mailbox: string, n: number, now = T0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await submit(store, mailbox, content({ subject: `held ${i}` }), { now });
    if (r.message.status !== 'pending') throw new Error(`expected pending, got ${r.message.status}`);
    ids.push(r.message.message_id);
  }
  return ids;
}

/** Submits n sends and approves them, so they are ready for delivery. */
export async function approveMany(store: SqliteStore, mailbox: string, n: number, c: (i: number) => MessageContent, now = T0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await submit(store, mailbox, c(i), { now });
    await store.decideMessage(r.message.message_id, { action: 'approve', actor: 'reviewer:test' }, now);
    ids.push(r.message.message_id);
  }
  return ids;
}

export const count = (s: SqliteStore, sql: string, ...params: unknown[]) => s.db.prepare(sql).pluck().get(...params) as number;
export const messageCount = (s: SqliteStore) => count(s, 'SELECT count(*) FROM messages');
export const auditCount = (s: SqliteStore) => count(s, 'SELECT count(*) FROM audit_events');

/** The actions recorded for one message, oldest first. */
export function auditActions(s: SqliteStore, messageId: string): string[] {
  return s.db.prepare('SELECT action FROM audit_events WHERE message_id = ? ORDER BY seq').pluck().all(messageId) as string[];
}

export const DECISION_ACTIONS = ['message.approved', 'message.rejected', 'message.cancelled', 'message.expired'] as const;
export const DECISION_STATUS: Record<string, string> = {
  'message.approved': 'approved', 'message.rejected': 'rejected', 'message.cancelled': 'cancelled', 'message.expired': 'expired',
};

/** Decision events for one message (approved / rejected / cancelled / expired). */
export function decisionEvents(s: SqliteStore, messageId: string): string[] {
  return auditActions(s, messageId).filter((a) => (DECISION_ACTIONS as readonly string[]).includes(a));
}

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

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Transpiles src/ into plain ESM under `outDir` (with schema.sql and a node_modules link), so worker threads,
 * which vitest does not transform, can run the real store code in parallel with true lock contention.
 * Returns the file URL prefix of the transpiled src/.
 */
export function transpileSrc(outDir: string): string {
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
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
