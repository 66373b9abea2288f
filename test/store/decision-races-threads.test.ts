/**
 * Decision races on one SQLite file from worker threads (issue 4 Acceptance), each thread its own connection,
 * released together, so BEGIN IMMEDIATE and busy_timeout meet real lock contention while delivery workers run:
 * one process's connections take turns in one queue (src/store/sql/sqlite-driver.ts), so only threads can make
 * them contend. The same races between instances, on both backends: conformance/decision-races.test.ts.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setLogLevel } from '../../src/log.js';
import type { DecideRequest } from '../../src/store/store.js';
import { type Decided, SEEN_AFTER, STATUS_OF, TO, expectAuditAgrees, expectDelivery } from './decision-outcomes.js';
import { ALICE, BOB, T0, TTL_S, addMailbox, holdMany } from './fixtures.js';
import { useSqliteStore } from './sqlite-fixtures.js';
import { threadRunner } from './threads.js';

const db = useSqliteStore(async (s) => {
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'gated_send');
});
// Registered after useSqliteStore's, so it runs before the database is closed.
afterEach(async () => {
  expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
});

describe('real lock contention, with delivery workers running throughout', () => {
  const N = 100;
  let threads: ReturnType<typeof threadRunner>;
  beforeAll(() => {
    setLogLevel('warn');
    threads = threadRunner();
  });
  afterAll(() => threads.cleanup());

  type Outcome = { id: string; ok: boolean; status?: string; code?: string };

  /** Every message: one thread won, the others lost with NOT_PENDING, the audit agrees, delivery once or never. */
  async function expectRace(ids: string[], outs: Outcome[][], statusOf: (winner: number) => Decided) {
    const decisions: Decided[] = [];
    for (const id of ids) {
      const rs = outs.map((out) => out.find((r) => r.id === id)!);
      const winners = rs.flatMap((r, i) => (r.ok ? [i] : []));
      expect(winners.length, id).toBe(1);
      const decided = statusOf(winners[0]!);
      for (const r of rs.filter((x) => !x.ok)) {
        expect(r.code, id).toBe('NOT_PENDING');
        expect(SEEN_AFTER[decided]).toContain(r.status);
      }
      await expectAuditAgrees(db.s, id, decided);
      await expectDelivery(db.s, id, decided);
      decisions.push(decided);
    }
    return decisions;
  }

  it(`approve, approve, reject and cancel from four threads over ${N} messages while two workers deliver`, async () => {
    const ids = await holdMany(db.s, ALICE, N, T0, TO);
    const reqs: DecideRequest[] = [
      { action: 'approve', actor: 'reviewer:1' },
      { action: 'approve', actor: 'reviewer:2' },
      { action: 'reject', actor: 'reviewer:3', reason: 'no' },
      { action: 'cancel', actor: 'agent:x' },
    ];
    const outs = await threads.run<Outcome | number>(db.t.path, [
      ...reqs.map((req) => ({ task: 'decide' as const, ids, req, now: T0 + 1 })),
      { task: 'deliver', now: T0 + 2, whileDeciding: true },
      { task: 'deliver', now: T0 + 2, whileDeciding: true },
    ]);
    const decided = await expectRace(ids, outs.slice(0, 4) as Outcome[][], (w) => STATUS_OF[reqs[w]!.action]);
    // The workers' claims add up to the approvals: none claimed twice, none missed.
    expect((outs[4]![0] as number) + (outs[5]![0] as number)).toBe(decided.filter((d) => d === 'approved').length);
    expect(new Set(decided).size, 'more than one kind of decision won').toBeGreaterThan(1);
  });

  for (const [approveAt, sweepAt] of [
    [-1, 0],
    [0, -1],
  ] as const) {
    it(`approve at expires_at${approveAt ? '-1ms' : ''} vs a sweep at expires_at${sweepAt ? '-1ms' : ''}, ${N} messages, then two workers`, async () => {
      // Message i is held at T0 + 10i, so in round i only it can be due, and both threads race for it.
      const ids: string[] = [];
      for (let i = 0; i < N; i++) ids.push(...(await holdMany(db.s, ALICE, 1, T0 + 10 * i, TO)));
      const expiries = ids.map((_, i) => T0 + 10 * i + TTL_S * 1000);
      const [approvals, swept] = (await threads.run<Outcome | string>(db.t.path, [
        { task: 'decide', ids, req: { action: 'approve', actor: 'reviewer:1' }, nows: expiries.map((e) => e + approveAt) },
        { task: 'expire', nows: expiries.map((e) => e + sweepAt) },
      ])) as [Outcome[], string[]];
      const after = expiries[N - 1]! + 10;
      await threads.run(db.t.path, [
        { task: 'deliver', now: after },
        { task: 'deliver', now: after },
      ]);
      expect(approvals.map((r) => r.id)).toEqual(ids);
      for (const r of approvals) {
        const outcome: Decided = r.ok ? 'approved' : 'expired';
        if (!r.ok) expect(r).toMatchObject({ code: 'NOT_PENDING', status: 'expired' });
        expect(swept.includes(r.id)).toBe(!r.ok && sweepAt === 0);
        await expectAuditAgrees(db.s, r.id, outcome);
        await expectDelivery(db.s, r.id, outcome);
      }
      const approved = approvals.filter((r) => r.ok).length;
      if (approveAt === 0) expect(approved).toBe(0);
      else expect(approved * swept.length, 'both outcomes occurred').toBeGreaterThan(0);
    });
  }
});
