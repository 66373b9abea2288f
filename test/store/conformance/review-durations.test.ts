/**
 * reviewDurations: how long people took to decide a mailbox's held mail, newest decisions first; the base of
 * estimated_review_time. Expiries, cancellations and other mailboxes' decisions are not counted.
 */
import { describe, expect, it } from 'vitest';
import { ALICE, BOB, T0, addMailbox, holdMany, useStore } from '../fixtures.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'gated_send');
});
const MIN = 60_000;

describe('reviewDurations', () => {
  it("a mailbox's decisions by people, in ms, newest first", async () => {
    const s = db.s;
    const [a, b, c, d] = await holdMany(s, ALICE, 4, T0);
    const [other] = await holdMany(s, BOB, 1, T0);
    await s.decideMessage(a!, { action: 'approve', actor: 'reviewer:test' }, T0 + 10 * MIN);
    await s.decideMessage(b!, { action: 'reject', actor: 'reviewer:test', reason: 'no' }, T0 + 30 * MIN);
    await s.decideMessage(c!, { action: 'cancel', actor: 'agent:test' }, T0 + 40 * MIN);
    await s.decideMessage(other!, { action: 'approve', actor: 'reviewer:test' }, T0 + 50 * MIN);
    await s.expireDue(T0 + 3 * 3_600_000, 100); // d expires: not a person's decision
    expect((await s.getMessage(d!))!.status).toBe('expired');
    expect(await s.reviewDurations(ALICE, 10)).toEqual([30 * MIN, 10 * MIN]);
    expect(await s.reviewDurations(ALICE, 1)).toEqual([30 * MIN]);
    expect(await s.reviewDurations(BOB, 10)).toEqual([50 * MIN]);
  });
});
