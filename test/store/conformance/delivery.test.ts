/** Delivery claims: compare-and-set leases, owner-guarded outcomes, retry backoff, lease recovery. */
import { describe, expect, it } from 'vitest';
import { ALICE, BOB, CAROL, T0, TTL_S, approveMany, auditActions, auditCount, auditEvents, content, holdMany, submit, useTwoInstances } from '../fixtures.js';

const db = useTwoInstances([
  [ALICE, 'gated_send'],
  [BOB, 'autonomous'],
  [CAROL, 'read_only'],
]);

const LEASE = 60_000;
/** Every mailbox this suite created: the process can deliver for all of them. */
const ALL = [ALICE, BOB, CAROL];
const REQUEUED_W1 = 'delivery lease of w1 expired before the message was transmitted; retrying (safe for this transport)';
const row = (id: string) => db.a.getMessage(id);
const lastDetail = async (id: string) => (await auditEvents(db.a, { message_id: id })).at(-1)!.detail;

let serial = 0;
async function oneSending(owner = 'w1', now = T0 + 1): Promise<string> {
  // Each its own subject: identical drafts within the dedupe window would be blocked as duplicates.
  const { message } = await submit(db.a, BOB, content({ subject: `sending ${++serial}` }), { now: T0 });
  const claimed = await db.a.claimForDelivery(owner, now, LEASE, 10, ALL);
  expect(claimed.map((m) => m.message_id)).toEqual([message.message_id]);
  return message.message_id;
}

describe('claimForDelivery', () => {
  it('two instances claiming in turns take every approved and queued message exactly once', async () => {
    const approved = await approveMany(db.a, ALICE, 30, (i) => content({ subject: `approved ${i}` }), T0);
    const queued: string[] = [];
    for (let i = 0; i < 30; i++) queued.push((await submit(db.b, BOB, content({ subject: `queued ${i}` }), { now: T0 })).message.message_id);
    const taken = new Map<string, string>();
    for (let turn = 0, emptyRuns = 0; emptyRuns < 2; turn++) {
      const [store, owner] = turn % 2 ? [db.b, 'worker-b'] : [db.a, 'worker-a'];
      const batch = await store.claimForDelivery(owner, T0 + 1, LEASE, 7, ALL);
      emptyRuns = batch.length ? 0 : emptyRuns + 1;
      for (const m of batch) {
        expect(taken.has(m.message_id), `claimed twice: ${m.message_id}`).toBe(false);
        taken.set(m.message_id, owner);
        // A claim is not an attempt: only a transmission tried is (chargeAttempt, or recordOutcome's charge).
        expect(m).toMatchObject({ status: 'sending', lease_owner: owner, lease_until: T0 + 1 + LEASE, attempts: 0 });
      }
    }
    expect([...taken.keys()].sort()).toEqual([...approved, ...queued].sort());
    expect(new Set(taken.values())).toEqual(new Set(['worker-a', 'worker-b']));
    for (const [id, owner] of taken) expect(await row(id)).toMatchObject({ status: 'sending', lease_owner: owner, attempts: 0 });
  });
  it('respects next_attempt_at and the limit', async () => {
    await submit(db.a, BOB, content({ subject: 'later' }), { now: T0 + 100 });
    for (let i = 0; i < 5; i++) await submit(db.a, BOB, content({ subject: `now ${i}` }), { now: T0 });
    expect((await db.a.claimForDelivery('w', T0 + 50, LEASE, 3, ALL)).length).toBe(3);
    expect((await db.b.claimForDelivery('w', T0 + 50, LEASE, 10, ALL)).length).toBe(2);
    expect(await db.a.claimForDelivery('w', T0 + 99, LEASE, 10, ALL)).toEqual([]);
    expect((await db.a.claimForDelivery('w', T0 + 100, LEASE, 10, ALL)).map((m) => m.subject)).toEqual(['later']);
  });
  it('never claims a pending, rejected, expired, cancelled or blocked message', async () => {
    const [pending, rejected, cancelled, expired] = await holdMany(db.a, ALICE, 4, T0);
    await db.a.decideMessage(rejected!, { action: 'reject', actor: 'r', reason: 'no' }, T0 + 1);
    await db.a.decideMessage(cancelled!, { action: 'cancel', actor: 'agent:x' }, T0 + 1);
    await db.b.decideMessage(expired!, { action: 'approve', actor: 'r' }, T0 + TTL_S * 1000).catch(() => undefined);
    const blocked = (await submit(db.a, CAROL)).message.message_id;
    expect(await row(expired!)).toMatchObject({ status: 'expired' });
    for (const now of [T0 + 1, T0 + TTL_S * 1000, T0 + 10 ** 10]) {
      expect(await db.a.claimForDelivery('w', now, LEASE, 100, ALL)).toEqual([]);
      expect(await db.b.claimForDelivery('w2', now, LEASE, 100, ALL)).toEqual([]);
    }
    expect(await Promise.all([pending, rejected, cancelled, expired, blocked].map(async (id) => (await row(id!))!.status))).toEqual([
      'pending',
      'rejected',
      'cancelled',
      'expired',
      'blocked',
    ]);
  });
  it('claims only mail of the mailboxes it is given, and nothing for none', async () => {
    const alice = await approveMany(db.a, ALICE, 2, (i) => content({ subject: `alice ${i}` }), T0);
    const bob = [(await submit(db.a, BOB, content({ subject: 'bob' }), { now: T0 })).message.message_id];
    expect(await db.a.claimForDelivery('w', T0 + 1, LEASE, 100, [])).toEqual([]);
    expect(await db.a.claimForDelivery('w', T0 + 1, LEASE, 100, ['nobody@sandbox.test'])).toEqual([]);
    const claimed = await db.b.claimForDelivery('w', T0 + 1, LEASE, 100, [BOB]);
    expect(claimed.map((m) => m.message_id)).toEqual(bob);
    for (const id of alice) expect(await row(id)).toMatchObject({ status: 'approved', attempts: 0, lease_owner: null });
    const rest = await db.a.claimForDelivery('w2', T0 + 1, LEASE, 100, [ALICE, BOB]);
    expect(rest.map((m) => m.message_id).sort()).toEqual([...alice].sort());
  });
});

describe('recordOutcome', () => {
  it('from a worker that does not hold the lease does nothing', async () => {
    const id = await oneSending('w1');
    const before = await row(id);
    const events = await auditCount(db.a);
    for (const outcome of [
      { kind: 'sent', detail: {} },
      { kind: 'failed', error: 'x' },
      { kind: 'unknown', error: 'x' },
      { kind: 'retry', error: 'x', next_attempt_at: T0 + 5 },
    ] as const) {
      expect(await db.b.recordOutcome(id, 'w2', outcome, T0 + 2)).toBeUndefined();
    }
    expect(await row(id)).toEqual(before);
    expect(await auditCount(db.a)).toBe(events);
  });
  it('twice from the owner records once: the second finds no lease', async () => {
    const id = await oneSending('w1');
    expect(await db.a.recordOutcome(id, 'w1', { kind: 'sent', detail: {} }, T0 + 2)).toMatchObject({ status: 'sent' });
    expect(await db.a.recordOutcome(id, 'w1', { kind: 'failed', error: 'late' }, T0 + 3)).toBeUndefined();
    expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.sent']);
  });
  it('retry -> queued with next_attempt_at and last_error, claimable only from then, attempts counted', async () => {
    const id = await oneSending('w1');
    const m = await db.a.recordOutcome(id, 'w1', { kind: 'retry', error: '451 try later', next_attempt_at: T0 + 30_000 }, T0 + 2, { charge: true });
    expect(m).toMatchObject({ status: 'queued', next_attempt_at: T0 + 30_000, last_error: '451 try later', lease_owner: null, lease_until: null, attempts: 1 });
    expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.retry_scheduled']);
    expect(await lastDetail(id)).toEqual({ attempt: 1, error: '451 try later', next_attempt_at: T0 + 30_000 });
    expect(await db.b.claimForDelivery('w2', T0 + 29_999, LEASE, 10, ALL)).toEqual([]);
    const [again] = await db.b.claimForDelivery('w2', T0 + 30_000, LEASE, 10, ALL);
    expect(again).toMatchObject({ message_id: id, status: 'sending', lease_owner: 'w2', attempts: 1 });
  });
  it('failed and unknown outcomes are final and never claimable', async () => {
    const failed = await oneSending('w1');
    const unknown = await oneSending('w1', T0 + 2);
    expect(await db.a.recordOutcome(failed, 'w1', { kind: 'failed', error: '550 no such user' }, T0 + 3)).toMatchObject({
      status: 'failed',
      last_error: '550 no such user',
    });
    expect(await db.a.recordOutcome(unknown, 'w1', { kind: 'unknown', error: 'reset after DATA' }, T0 + 3)).toMatchObject({ status: 'outcome_unknown' });
    expect(await auditActions(db.a, failed)).toEqual(['message.submitted', 'message.failed']);
    expect(await auditActions(db.a, unknown)).toEqual(['message.submitted', 'message.outcome_unknown']);
    expect(await db.a.claimForDelivery('w', T0 + 10 ** 10, LEASE, 10, ALL)).toEqual([]);
    expect(await db.a.recoverLeases(T0 + 10 ** 10, () => true)).toEqual([]);
  });
});

describe('recoverLeases', () => {
  it('leaves a lease that has not run out (lease_until is still valid at exactly lease_until)', async () => {
    const id = await oneSending('w1', T0 + 1);
    expect(await db.b.recoverLeases(T0 + 1 + LEASE, () => true)).toEqual([]);
    expect(await row(id)).toMatchObject({ status: 'sending', lease_owner: 'w1' });
  });
  it('an expired lease is requeued when a retry is safe, with audit, and the old owner can no longer record', async () => {
    const id = await oneSending('w1', T0 + 1);
    const seen: string[] = [];
    const now = T0 + 2 + LEASE;
    const out = await db.b.recoverLeases(now, (m) => {
      seen.push(`${m.message_id}:${m.lease_owner}`);
      return true;
    });
    expect(seen).toEqual([`${id}:w1`]);
    expect(out).toMatchObject([{ message_id: id, status: 'queued' }]);
    expect(await row(id)).toMatchObject({ status: 'queued', lease_owner: null, lease_until: null, next_attempt_at: now, last_error: REQUEUED_W1 });
    expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.retry_scheduled']);
    expect(await lastDetail(id)).toEqual({ error: REQUEUED_W1, recovered: true });
    expect(await db.a.recordOutcome(id, 'w1', { kind: 'sent', detail: {} }, now + 1)).toBeUndefined();
    const [again] = await db.b.claimForDelivery('w2', now, LEASE, 10, ALL);
    // The dead owner never tried the server: its lease charged nothing.
    expect(again).toMatchObject({ message_id: id, lease_owner: 'w2', attempts: 0 });
    expect(await db.a.recordOutcome(id, 'w1', { kind: 'sent', detail: {} }, now + 1)).toBeUndefined();
    expect(await db.b.recordOutcome(id, 'w2', { kind: 'sent', detail: {} }, now + 1)).toMatchObject({ status: 'sent' });
    expect((await auditActions(db.a, id)).filter((x) => x === 'message.sent')).toEqual(['message.sent']);
  });
  it('an expired lease becomes outcome_unknown when a retry is not safe, with audit, and is not claimable', async () => {
    const id = await oneSending('w1', T0 + 1);
    const now = T0 + 2 + LEASE;
    expect(await db.b.recoverLeases(now, () => false)).toMatchObject([{ message_id: id, status: 'outcome_unknown' }]);
    expect(await row(id)).toMatchObject({ status: 'outcome_unknown', lease_owner: null, lease_until: null });
    expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.outcome_unknown']);
    expect(await lastDetail(id)).toMatchObject({ recovered: true });
    expect(await db.a.claimForDelivery('w', now + 10 ** 9, LEASE, 10, ALL)).toEqual([]);
    expect(await db.a.recoverLeases(now + 10 ** 9, () => true)).toEqual([]);
  });
  it('recovering from two instances in turn recovers each lease once', async () => {
    const ids = [await oneSending('w1', T0 + 1), await oneSending('w1', T0 + 1)];
    const now = T0 + 2 + LEASE;
    const first = await db.a.recoverLeases(now, () => true);
    const second = await db.b.recoverLeases(now, () => true);
    expect(first.map((m) => m.message_id).sort()).toEqual([...ids].sort());
    expect(second).toEqual([]);
    for (const id of ids) expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.retry_scheduled']);
  });
});

describe('returned messages agree with the stored rows', () => {
  const KEYS = [
    'status',
    'decided_at',
    'decided_by',
    'lease_owner',
    'lease_until',
    'last_error',
    'next_attempt_at',
    'attempts',
    'transmitting_at',
    'smtp_response',
    'updated_at',
  ] as const;
  const state = (m: object | undefined) => Object.fromEntries(KEYS.map((k) => [k, (m as Record<string, unknown>)[k]]));
  it('expireDue returns each message as it now stands', async () => {
    const [id] = await holdMany(db.a, ALICE, 1, T0);
    const [m] = await db.a.expireDue(T0 + TTL_S * 1000, 10);
    expect(state(m)).toEqual(state(await db.a.getMessage(id!)));
  });
  it('recoverLeases returns each message as it now stands', async () => {
    const id = await oneSending('w1', T0 + 1);
    const [m] = await db.b.recoverLeases(T0 + 2 + LEASE, () => false);
    expect(state(m)).toEqual(state(await db.a.getMessage(id)));
  });
});
