/**
 * Decision races end to end (issue 4 Acceptance): approve vs
 * reject, approve vs cancel, two reviewers approving, approve vs expiry at expires_at and 1 ms either side, with
 * the sandbox delivery worker running during the race and after it. Every trial: exactly one decision, the loser
 * gets NOT_PENDING, the audit log has exactly one decision event and it agrees with the row, and an approved
 * message is delivered exactly once (one INBOX copy, one captured outside copy) while any other is never delivered.
 * Two instances on one database in seeded interleavings; on SQLite, worker threads add real lock contention
 * (decision-races-threads.test.ts). (races.test.ts and instances.test.ts race the decisions without delivery.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { DecideRequest, OutboundMessage } from '../../../src/store/store.js';
import { type Decided, SEEN_AFTER, STATUS_OF, TO, expectAuditAgrees, expectDelivery } from '../decision-outcomes.js';
import { ALICE, BOB, T0, TTL_S, holdMany, race, rng, sandboxWorker, useTwoInstances } from '../fixtures.js';

const TRIALS = 100;

const db = useTwoInstances([
  [ALICE, 'gated_send'],
  [BOB, 'gated_send'],
]);
// Registered after useTwoInstances's, so it runs before the database is closed.
afterEach(async () => {
  expect(await db.a.verifyAudit()).toMatchObject({ ok: true });
});

/** Exactly one request won; every other lost with NOT_PENDING naming where the message already was. */
function oneWinner(settled: readonly PromiseSettledResult<unknown>[], reqs: readonly DecideRequest[]): Decided {
  const won = settled.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
  expect(won.length, 'winners').toBe(1);
  const decided = STATUS_OF[reqs[won[0]!]!.action];
  expect((settled[won[0]!] as PromiseFulfilledResult<OutboundMessage>).value).toMatchObject({ status: decided, decided_by: reqs[won[0]!]!.actor });
  for (const lost of settled.filter((r): r is PromiseRejectedResult => r.status === 'rejected')) {
    expect(lost.reason).toMatchObject({ code: 'NOT_PENDING' });
    expect(SEEN_AFTER[decided]).toContain((lost.reason as { details: { status: string } }).details.status);
  }
  return decided;
}

describe('two instances decide while a delivery worker runs', () => {
  const pairs: [string, DecideRequest, DecideRequest][] = [
    ['approve vs reject', { action: 'approve', actor: 'reviewer:a' }, { action: 'reject', actor: 'reviewer:b', reason: 'no' }],
    ['approve vs cancel', { action: 'approve', actor: 'reviewer:a' }, { action: 'cancel', actor: 'agent:x' }],
    ['two reviewers approve', { action: 'approve', actor: 'reviewer:a' }, { action: 'approve', actor: 'reviewer:b' }],
  ];
  for (const [name, reqA, reqB] of pairs) {
    it(`${name}: one decision, audit agrees, delivered once or never, ${TRIALS} trials`, async () => {
      const next = rng(name.length * 104_729);
      let clock = T0;
      const worker = sandboxWorker(db.b, () => clock);
      const wins = { a: 0, b: 0 };
      for (let i = 0; i < TRIALS; i++) {
        const [id] = await holdMany(db.a, ALICE, 1, T0, TO);
        clock = T0 + 1 + i;
        const [ra, rb] = await race<[OutboundMessage, OutboundMessage, unknown]>(
          next,
          () => db.a.decideMessage(id!, reqA, clock),
          () => db.b.decideMessage(id!, reqB, clock),
          () => worker.tick(),
        );
        const decided = oneWinner([ra, rb], [reqA, reqB]);
        wins[ra.status === 'fulfilled' ? 'a' : 'b']++;
        await expectAuditAgrees(db.a, id!, decided, db.b);
        await worker.tick();
        await expectDelivery(db.a, id!, decided);
      }
      // The interleavings really varied: each side won some trials.
      expect(wins.a).toBeGreaterThan(0);
      expect(wins.b).toBeGreaterThan(0);
    });
  }
});

describe("approve vs the worker's expiry sweep around expires_at", () => {
  const around = [-1, 0, 1];
  for (const approveAt of around) {
    for (const sweepAt of around) {
      const label = (n: number) => (n === 0 ? 'expires_at' : `expires_at${n > 0 ? '+' : ''}${n}ms`);
      it(`approve at ${label(approveAt)}, sweep at ${label(sweepAt)}: ${TRIALS / 2} trials`, async () => {
        const next = rng(7_000 + approveAt * 10 + sweepAt);
        let clock = T0;
        const worker = sandboxWorker(db.b, () => clock);
        const seen = { approved: 0, expired: 0 };
        for (let i = 0; i < TRIALS / 2; i++) {
          const heldAt = T0 + 10 * i;
          const [id] = await holdMany(db.a, ALICE, 1, heldAt, TO);
          const expiresAt = heldAt + TTL_S * 1000;
          clock = expiresAt + sweepAt;
          const [approval] = await race<[OutboundMessage, unknown]>(
            next,
            () => db.a.decideMessage(id!, { action: 'approve', actor: 'reviewer:a' }, expiresAt + approveAt),
            () => worker.tick(),
          );
          const decided: Decided = approval.status === 'fulfilled' ? 'approved' : 'expired';
          if (approval.status === 'rejected') expect(approval.reason).toMatchObject({ code: 'NOT_PENDING', details: { status: 'expired' } });
          seen[decided]++;
          await expectAuditAgrees(db.a, id!, decided, db.b);
          clock = expiresAt + 2;
          await worker.tick();
          await expectDelivery(db.a, id!, decided);
        }
        // At or after expires_at the approval always loses; before it, it loses only to a sweep at or after it.
        if (approveAt >= 0) expect(seen.approved).toBe(0);
        else if (sweepAt < 0) expect(seen.expired).toBe(0);
        else expect(seen.approved * seen.expired, 'both outcomes occurred').toBeGreaterThan(0);
      });
    }
  }
});
