/**
 * Shared setup for the store suite, on either backend (backend.ts): a fresh database per test, mailboxes, a
 * submit helper that goes through the real gate, and readers that prove what was (not) written through the Store
 * interface alone, so the conformance suite runs unchanged on SQLite and PostgreSQL. What only SQL can see (the
 * SQLite file's schema, triggers, pragmas) is in sqlite-fixtures.ts.
 */
import { evaluate } from '../../src/gate/evaluate.js';
import type { PolicySettings } from '../../src/gate/policy/index.js';
import type { AutoApproveRule } from '../../src/gate/rules/index.js';
import type { Action } from '../../src/gate/types.js';
import { afterEach, beforeEach } from 'vitest';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import { DeliveryWorker } from '../../src/services/deliver.js';
import { sandboxTransport } from '../../src/services/sandbox.js';
import type { AuditQuery } from '../../src/store/audit.js';
import type { NewEmail } from '../../src/store/inbox.js';
import type { AuditEvent, GateFn, InboundEmail, MessageContent, Store, SubmitRequest, SubmitResult } from '../../src/store/store.js';
import type { OversightMode } from '../../src/values.js';
import { type TestDb, testDb } from './backend.js';

export { type TestDb, testDb, useStore } from './backend.js';

export const T0 = 1_700_000_000_000;
export const TTL_S = 3600;
export const OPERATOR = 'operator:test';
export const AGENT = 'agent:test';

export const ALICE = 'alice@sandbox.test';
export const BOB = 'bob@sandbox.test';
export const CAROL = 'carol@sandbox.test';
export const OUTSIDER = 'someone@external.example';

/** Two instances on one fresh database (two processes, or two servers), with the mailboxes created through the first. */
async function twoInstances(mailboxes: readonly (readonly [string, OversightMode])[]) {
  const t = testDb();
  const a = t.open();
  const b = t.open();
  for (const [address, mode] of mailboxes) await addMailbox(a, address, mode);
  return { t, a, b };
}

/**
 * twoInstances for every test of a suite: registers the hooks and returns a holder whose `a` and `b` (the
 * instances) and `t` (the database) are set before each test.
 */
export function useTwoInstances(mailboxes: readonly (readonly [string, OversightMode])[]) {
  const holder = {} as { t: TestDb; a: Store; b: Store };
  beforeEach(async () => {
    Object.assign(holder, await twoInstances(mailboxes));
  });
  afterEach(async () => {
    await holder.t.close();
  });
  return holder;
}

export async function addMailbox(
  store: Store,
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

/** An email as a sandbox delivery inserts it (insertInbound), into ALICE's INBOX unless told otherwise. */
export function inboundEmail(overrides: Partial<NewEmail> = {}): NewEmail {
  return {
    mailbox: ALICE,
    folder: 'INBOX',
    source: 'sandbox',
    from_addr: 'sender@example.org',
    from_name: null,
    to: [ALICE],
    cc: [],
    subject: 'no subject',
    text: null,
    html: null,
    message_id_header: null,
    in_reply_to_header: null,
    references_header: null,
    outbound_message_id: null,
    delivery_role: null,
    date: T0,
    ...overrides,
  };
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
  store: Store,
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
export async function holdMany(store: Store, mailbox: string, n: number, now = T0, c: Partial<MessageContent> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await submit(store, mailbox, content({ ...c, subject: `held ${++heldSerial}` }), { now, policy: BULK_POLICY });
    if (r.message.status !== 'pending') throw new Error(`expected pending, got ${r.message.status}: ${r.message.gate_reason}`);
    ids.push(r.message.message_id);
  }
  return ids;
}

/** Submits n sends and approves them, so they are ready for delivery. */
export async function approveMany(store: Store, mailbox: string, n: number, c: (i: number) => MessageContent, now = T0): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await submit(store, mailbox, c(i), { now, policy: BULK_POLICY });
    await store.decideMessage(r.message.message_id, { action: 'approve', actor: 'reviewer:test' }, now);
    ids.push(r.message.message_id);
  }
  return ids;
}

/** More rows than any test makes: "all of them" for the Store's limited reads. */
const ALL = 1_000_000;

/** Every audit event, oldest first, optionally of one message or mailbox. */
export const auditEvents = (s: Store, q: Omit<AuditQuery, 'limit'> = {}): Promise<AuditEvent[]> => s.audit({ ...q, limit: ALL });
export const messageCount = async (s: Store) => (await s.listMessages({})).length;
export const auditCount = async (s: Store) => (await auditEvents(s)).length;

/** The actions recorded for one message (or held action), oldest first. */
export async function auditActions(s: Store, messageId: string): Promise<string[]> {
  return (await auditEvents(s, { message_id: messageId })).map((e) => e.action);
}

/** The events of one kind, oldest first. */
export async function eventsOf(s: Store, action: string): Promise<AuditEvent[]> {
  return (await auditEvents(s)).filter((e) => e.action === action);
}

const DECISION_ACTIONS = ['message.approved', 'message.rejected', 'message.cancelled', 'message.expired'] as const;
export const DECISION_STATUS: Record<string, string> = {
  'message.approved': 'approved',
  'message.rejected': 'rejected',
  'message.cancelled': 'cancelled',
  'message.expired': 'expired',
};

/** Decision events for one message (approved / rejected / cancelled / expired). */
export async function decisionEvents(s: Store, messageId: string): Promise<string[]> {
  return (await auditActions(s, messageId)).filter((a) => (DECISION_ACTIONS as readonly string[]).includes(a));
}

/** Every email of every mailbox, in every folder: the whole emails table as the Store shows it. */
export async function allEmails(s: Store): Promise<InboundEmail[]> {
  const out: InboundEmail[] = [];
  for (const { address } of await s.listMailboxes()) {
    for (const folder of await s.listFolders(address)) out.push(...(await s.listEmails({ mailbox: address, folder, unread_only: false, limit: ALL })));
  }
  return out;
}

/**
 * A normal history of 20 audit events through real store operations: mailboxes, held sends, approve with edits,
 * reject, cancel, an expiry, mode changes, sandbox deliveries, a read. Returns the number of events.
 */
export async function auditHistory(s: Store): Promise<number> {
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
export async function deliveredCopies(s: Store, messageId: string) {
  const copies = (await allEmails(s)).filter((e) => e.outbound_message_id === messageId);
  return {
    inbox: copies.filter((e) => e.delivery_role === 'inbox').length,
    sent: copies.filter((e) => e.delivery_role === 'sent').length,
    captured: (await s.listCaptured(ALL)).filter((c) => c.message_id === messageId).length,
    sent_events: (await auditActions(s, messageId)).filter((a) => a === 'message.sent').length,
  };
}

export const NOTHING_DELIVERED = { inbox: 0, sent: 0, captured: 0, sent_events: 0 };
