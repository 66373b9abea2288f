/**
 * Decision races between two instances on one database (two processes on a SQLite file, two servers on
 * PostgreSQL), in randomised interleavings: exactly one decision wins, the loser gets NOT_PENDING, and the audit
 * log agrees with the rows. More instances at once: instances.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecideRequest, Store } from '../../../src/store/store.js';
import {
  ALICE,
  BULK_POLICY,
  DECISION_STATUS,
  T0,
  TTL_S,
  type TestDb,
  addMailbox,
  auditEvents,
  content,
  decisionEvents,
  failure,
  holdMany,
  race,
  rng,
  submit,
  testDb,
} from '../fixtures.js';

const TRIALS = 200;
const EXPIRES = T0 + TTL_S * 1000;

let t: TestDb;
let a: Store;
let b: Store;
beforeAll(async () => {
  t = testDb();
  a = t.open();
  b = t.open();
  await addMailbox(a, ALICE);
});
afterAll(async () => {
  // Whatever ran, the chain is intact and every decided row has exactly the one matching decision event.
  expect((await a.verifyAudit()).ok).toBe(true);
  const decisions = new Map<string, string[]>();
  for (const e of await auditEvents(a)) {
    if (e.message_id && e.action in DECISION_STATUS) decisions.set(e.message_id, [...(decisions.get(e.message_id) ?? []), e.action]);
  }
  const disagree = (await a.listMessages({})).flatMap((m) => {
    const events = decisions.get(m.message_id) ?? [];
    const expected = m.status === 'pending' ? [] : [['approved', 'queued', 'sending', 'sent'].includes(m.status) ? 'message.approved' : `message.${m.status}`];
    return events.join() === expected.join() ? [] : [{ message_id: m.message_id, status: m.status, events }];
  });
  expect(disagree).toEqual([]);
  await t.close();
});

const newHeld = async () => (await holdMany(a, ALICE, 1))[0]!;
/** Each idempotency trial submits at its own instant, so its rows are the ones created since then. */
const LATER = EXPIRES + 1_000_000;
const keyed = async (key: string, since: number) => (await a.listMessages({ mailbox: ALICE, since })).filter((m) => m.idempotency_key === key).length;

const pairs: [string, DecideRequest, DecideRequest][] = [
  ['approve vs reject', { action: 'approve', actor: 'reviewer:a' }, { action: 'reject', actor: 'reviewer:b', reason: 'no' }],
  ['approve vs cancel', { action: 'approve', actor: 'reviewer:a' }, { action: 'cancel', actor: 'agent:x' }],
  ['approve vs approve', { action: 'approve', actor: 'reviewer:a' }, { action: 'approve', actor: 'reviewer:b' }],
  ['reject vs cancel', { action: 'reject', actor: 'reviewer:a', reason: 'no' }, { action: 'cancel', actor: 'agent:x' }],
];

describe('two instances decide the same message', () => {
  for (const [name, reqA, reqB] of pairs) {
    it(`${name}: exactly one wins, ${TRIALS} trials`, async () => {
      const next = rng(name.length * 7919);
      const wins = { a: 0, b: 0 };
      for (let i = 0; i < TRIALS; i++) {
        const id = await newHeld();
        const now = T0 + 1 + i;
        const [ra, rb] = await race(
          next,
          () => a.decideMessage(id, reqA, now),
          () => b.decideMessage(id, reqB, now),
        );
        const fulfilled = [ra, rb].filter((r) => r.status === 'fulfilled');
        expect(fulfilled.length, `trial ${i}`).toBe(1);
        const [winner, loser, wonReq] = ra.status === 'fulfilled' ? [ra, rb, reqA] : [rb, ra, reqB];
        wins[ra.status === 'fulfilled' ? 'a' : 'b']++;
        const status = { approve: 'approved', reject: 'rejected', cancel: 'cancelled' }[wonReq.action];
        expect((winner as PromiseFulfilledResult<{ status: string; decided_by: string }>).value).toMatchObject({ status, decided_by: wonReq.actor });
        expect((loser as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_PENDING', details: { status } });
        const events = await decisionEvents(b, id);
        expect(events.length, `trial ${i}`).toBe(1);
        expect(DECISION_STATUS[events[0]!]).toBe(status);
        expect((await b.getMessage(id))!.status).toBe(status);
      }
      // The interleaving really varied: both sides won some trials.
      expect(wins.a).toBeGreaterThan(0);
      expect(wins.b).toBeGreaterThan(0);
    });
  }
});

describe('approve vs expiry around expires_at', () => {
  const offsets: [number, number][] = [
    [-1, +1],
    [-1, 0],
    [0, -1],
    [+1, -1],
    [-1, -1],
  ];
  for (const [approveAt, sweepAt] of offsets) {
    it(`approve at expires_at${approveAt >= 0 ? '+' : ''}${approveAt}ms vs expireDue at expires_at${sweepAt >= 0 ? '+' : ''}${sweepAt}ms, ${TRIALS} trials`, async () => {
      const next = rng(1000 + approveAt * 10 + sweepAt);
      const outcomes = { approved: 0, expired: 0 };
      for (let i = 0; i < TRIALS; i++) {
        const id = await newHeld();
        const other = await newHeld(); // a bystander that must never be touched by the approve
        const [ra, rb] = await race(
          next,
          () => a.decideMessage(id, { action: 'approve', actor: 'reviewer:a' }, EXPIRES + approveAt),
          () => b.expireDue(EXPIRES + sweepAt, 1000),
        );
        const final = (await a.getMessage(id))!.status;
        expect(['approved', 'expired']).toContain(final);
        outcomes[final as 'approved' | 'expired']++;
        expect(await decisionEvents(a, id)).toEqual([final === 'approved' ? 'message.approved' : 'message.expired']);
        if (final === 'approved') {
          expect(approveAt).toBeLessThan(0);
          expect(ra.status).toBe('fulfilled');
          expect(rb.status === 'fulfilled' && rb.value.some((m) => m.message_id === id)).toBe(false);
        } else {
          expect(ra.status).toBe('rejected');
          expect((ra as PromiseRejectedResult).reason).toMatchObject({ code: 'NOT_PENDING', details: { status: 'expired' } });
        }
        // A sweep at or after expires_at must have expired the bystander; one before it must not.
        expect((await a.getMessage(other))!.status).toBe(sweepAt >= 0 ? 'expired' : 'pending');
        if (sweepAt < 0) await a.decideMessage(other, { action: 'cancel', actor: 'agent:x' }, T0);
      }
      if (approveAt >= 0) expect(outcomes.approved).toBe(0);
      if (approveAt < 0 && sweepAt < 0) expect(outcomes.expired).toBe(0);
      if (approveAt < 0 && sweepAt >= 0) {
        expect(outcomes.approved).toBeGreaterThan(0);
        expect(outcomes.expired).toBeGreaterThan(0);
      }
      // Nothing expired is ever claimable.
      const claimed = await a.claimForDelivery(`w${approveAt}${sweepAt}`, EXPIRES + 10, 60_000, 10_000, [ALICE]);
      expect(claimed.every((m) => m.status === 'sending')).toBe(true);
      for (const m of claimed) expect(await decisionEvents(a, m.message_id)).toEqual(['message.approved']);
    });
  }
});

describe('idempotent submits racing from two instances (K7)', () => {
  it(`same key and content: one message, one replay, ${TRIALS} trials`, async () => {
    const next = rng(42);
    for (let i = 0; i < TRIALS; i++) {
      const key = `race-${i}`;
      const c = content({ subject: `idem ${i}` });
      const now = LATER + i;
      const [ra, rb] = await race(
        next,
        () => submit(a, ALICE, c, { key, now, policy: BULK_POLICY }),
        () => submit(b, ALICE, c, { key, now, policy: BULK_POLICY }),
      );
      if (ra.status !== 'fulfilled' || rb.status !== 'fulfilled') throw new Error(`trial ${i}: a submit failed`);
      expect([ra.value.replayed, rb.value.replayed].sort()).toEqual([false, true]);
      expect(ra.value.message.message_id).toBe(rb.value.message.message_id);
      expect(await keyed(key, now)).toBe(1);
    }
  });

  it(`same key, different content: one message, one IDEMPOTENCY_CONFLICT, ${TRIALS} trials`, async () => {
    const next = rng(43);
    for (let i = 0; i < TRIALS; i++) {
      const key = `conflict-${i}`;
      const now = LATER + TRIALS + i;
      const [ra, rb] = await race(
        next,
        () => submit(a, ALICE, content({ subject: `A ${i}` }), { key, now, policy: BULK_POLICY }),
        () => submit(b, ALICE, content({ subject: `B ${i}` }), { key, now, policy: BULK_POLICY }),
      );
      const ok = [ra, rb].filter((r) => r.status === 'fulfilled');
      const bad = [ra, rb].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok.length).toBe(1);
      expect(bad[0]!.reason).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      expect(await keyed(key, now)).toBe(1);
    }
    expect((await failure(submit(a, ALICE, content({ subject: 'C' }), { key: 'conflict-0' }))).code).toBe('IDEMPOTENCY_CONFLICT');
  });
});
