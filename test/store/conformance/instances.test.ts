/**
 * Several instances on one database at the same moment: four reviewers deciding the same messages, an approval
 * against the expiry sweep, three agents retrying one idempotency key, two submits racing for the last place under
 * a rate limit or the held cap. On PostgreSQL each instance is its own pool, so the server sees truly concurrent
 * transactions (row locks, advisory locks, unique constraints do the work); on SQLite they are connections of one
 * process, taking turns in seeded interleavings. The same races from worker threads on one SQLite file, for real
 * lock contention there: parallel.test.ts and policy-race.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DecideRequest, Store } from '../../../src/store/store.js';
import {
  ALICE,
  BOB,
  BULK_POLICY,
  DECISION_STATUS,
  T0,
  TTL_S,
  type TestDb,
  addMailbox,
  content,
  decisionEvents,
  holdMany,
  race,
  rng,
  submit,
  testDb,
} from '../fixtures.js';

const N = 50;

let t: TestDb;
let stores: Store[];
beforeEach(async () => {
  t = testDb();
  stores = [t.open(), t.open(), t.open(), t.open()];
  await addMailbox(stores[0]!, ALICE, 'gated_send');
  await addMailbox(stores[0]!, BOB, 'gated_send');
});
afterEach(async () => {
  expect(await stores[0]!.verifyAudit()).toMatchObject({ ok: true });
  await t.close();
});

describe('decisions from four instances at once', () => {
  it(`approve, approve, reject and cancel race over the same ${N} messages: exactly one wins each`, async () => {
    const ids = await holdMany(stores[0]!, ALICE, N);
    const reqs: DecideRequest[] = [
      { action: 'approve', actor: 'reviewer:1' },
      { action: 'approve', actor: 'reviewer:2' },
      { action: 'reject', actor: 'reviewer:3', reason: 'no' },
      { action: 'cancel', actor: 'agent:x' },
    ];
    const next = rng(4004);
    const won = [0, 0, 0, 0];
    for (const id of ids) {
      const settled = await race(next, ...stores.map((s, i) => () => s.decideMessage(id, reqs[i]!, T0 + 1)));
      const winners = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(winners.length, id).toBe(1);
      won[winners[0]!]!++;
      const status = (await stores[1]!.getMessage(id))!.status;
      for (const r of settled) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'NOT_PENDING', details: { status } });
      }
      const events = await decisionEvents(stores[2]!, id);
      expect(events.length, id).toBe(1);
      expect(DECISION_STATUS[events[0]!]).toBe(status);
    }
    // The interleavings really varied: more than one instance won, and none won every message. (Not "every
    // instance won some": on a loaded machine one instance's pool can lose all fifty fairly.)
    expect(won.filter((n) => n > 0).length, `wins ${won}`).toBeGreaterThanOrEqual(2);
    for (const n of won) expect(n < N, `wins ${won}`).toBe(true);
  });

  it(`approve at expires_at - 1ms vs a sweep at expires_at + 1ms on another instance, ${N} messages: one terminal decision each`, async () => {
    // Message i is held at T0 + 10i, so in round i only it is due for the sweep, and both instances race for it.
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push(...(await holdMany(stores[0]!, ALICE, 1, T0 + 10 * i)));
    const next = rng(4005);
    const seen = { approved: 0, expired: 0 };
    for (const [i, id] of ids.entries()) {
      const expires = T0 + 10 * i + TTL_S * 1000;
      const [approval, sweep] = await race<[unknown, { message_id: string }[]]>(
        next,
        () => stores[0]!.decideMessage(id, { action: 'approve', actor: 'reviewer:1' }, expires - 1),
        () => stores[1]!.expireDue(expires + 1, 10),
      );
      const status = (await stores[2]!.getMessage(id))!.status as 'approved' | 'expired';
      seen[status]++;
      expect(approval.status).toBe(status === 'approved' ? 'fulfilled' : 'rejected');
      if (approval.status === 'rejected') expect(approval.reason).toMatchObject({ code: 'NOT_PENDING', details: { status: 'expired' } });
      expect(sweep.status === 'fulfilled' && sweep.value.some((m) => m.message_id === id)).toBe(status === 'expired');
      expect(await decisionEvents(stores[3]!, id)).toEqual([`message.${status}`]);
    }
    // Nothing expired is claimable, everything approved is, and both sides won some rounds.
    const claimed = await stores[3]!.claimForDelivery('w', T0 + 10 * N + TTL_S * 1000, 60_000, 10_000, [ALICE, BOB]);
    expect(claimed.length).toBe(seen.approved);
    expect(seen.approved * seen.expired, JSON.stringify(seen)).toBeGreaterThan(0);
  });
});

describe('idempotent submits from three instances at once (K7)', () => {
  const keys = Array.from({ length: N }, (_, i) => `k${i}`);
  const keyed = async (key: string) => (await stores[0]!.listMessages({ mailbox: ALICE })).filter((m) => m.idempotency_key === key);

  it('same key, same content: one message per key, every other submit a replay of it', async () => {
    const next = rng(4006);
    for (const key of keys) {
      const c = content({ subject: `same ${key}` });
      const settled = await race(next, ...stores.slice(0, 3).map((s) => () => submit(s, ALICE, c, { key, policy: BULK_POLICY })));
      const ok = settled.map((r) => {
        if (r.status === 'rejected') throw r.reason;
        return r.value;
      });
      expect(ok.filter((r) => !r.replayed).length, key).toBe(1);
      expect(new Set(ok.map((r) => r.message.message_id)).size).toBe(1);
      expect((await keyed(key)).map((m) => m.message_id)).toEqual([ok[0]!.message.message_id]);
    }
  });

  it('same key, different content: one message per key, the others IDEMPOTENCY_CONFLICT', async () => {
    const next = rng(4007);
    for (const key of keys) {
      const settled = await race(
        next,
        ...stores.slice(0, 3).map((s, i) => () => submit(s, ALICE, content({ subject: `from ${i} ${key}` }), { key, policy: BULK_POLICY })),
      );
      expect(settled.filter((r) => r.status === 'fulfilled').length, key).toBe(1);
      for (const r of settled) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      expect((await keyed(key)).length).toBe(1);
    }
  });
});

describe('submits racing for the last place (the facts are read under the mailbox lock)', () => {
  const LIMIT = 2;

  it(`${N} mailboxes one short of per_minute = ${LIMIT}: of two submits from two instances exactly one gets through`, async () => {
    const next = rng(4008);
    for (let i = 0; i < N; i++) {
      const mb = `rate${i}@race.test`;
      await addMailbox(stores[0]!, mb, 'autonomous', { policy: { dedupe_window: 0, rate_limits: { per_minute: LIMIT } } });
      for (let n = 0; n < LIMIT - 1; n++) await submit(stores[0]!, mb, content({ subject: `earlier ${n}` }), { now: T0 + n });
      const settled = await race(next, ...stores.slice(0, 2).map((s, k) => () => submit(s, mb, content({ subject: `racer ${k}` }), { now: T0 + 1000 })));
      const codes = settled.map((r) => (r.status === 'fulfilled' ? r.value.message.gate_code : String(r.reason))).sort();
      expect(codes, mb).toEqual(['mode_allows', 'rate_limited']);
      // The table agrees: exactly LIMIT messages count against the mailbox.
      expect((await stores[1]!.listMessages({ mailbox: mb })).filter((m) => m.status !== 'blocked').length).toBe(LIMIT);
    }
  });

  it(`${N} mailboxes one short of max_pending = ${LIMIT}: of two drafts from two instances exactly one is held`, async () => {
    const next = rng(4009);
    for (let i = 0; i < N; i++) {
      const mb = `held${i}@race.test`;
      await addMailbox(stores[0]!, mb, 'gated_send', { policy: { dedupe_window: 0, max_pending: LIMIT } });
      for (let n = 0; n < LIMIT - 1; n++)
        expect((await submit(stores[0]!, mb, content({ subject: `held ${n}` }), { now: T0 + n })).message.status).toBe('pending');
      const settled = await race(next, ...stores.slice(0, 2).map((s, k) => () => submit(s, mb, content({ subject: `racer ${k}` }), { now: T0 + 1000 })));
      const codes = settled.map((r) => (r.status === 'fulfilled' ? r.value.message.gate_code : String(r.reason))).sort();
      expect(codes, mb).toEqual(['held_limit', 'mode_requires_approval']);
      expect((await stores[1]!.listMessages({ mailbox: mb })).filter((m) => m.status === 'pending').length).toBe(LIMIT);
    }
  });
});
