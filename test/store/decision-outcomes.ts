/**
 * What a decision race must leave, checked the same way for instances racing (conformance/decision-races.test.ts)
 * and for worker threads on one SQLite file (decision-races-threads.test.ts).
 */
import { expect } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { BOB, NOTHING_DELIVERED, OUTSIDER, decisionEvents, deliveredCopies } from './fixtures.js';

/** One recipient inside the sandbox and one outside it, so delivery leaves an INBOX copy and a captured one. */
export const TO = { to: [BOB, OUTSIDER] };
export const STATUS_OF = { approve: 'approved', reject: 'rejected', cancel: 'cancelled', expire: 'expired' } as const;
export type Decided = (typeof STATUS_OF)[keyof typeof STATUS_OF];
/** Where a message may already be when a late decision finds it: an approved one may be claimed or sent meanwhile. */
export const SEEN_AFTER: Record<Decided, string[]> = {
  approved: ['approved', 'sending', 'sent'],
  rejected: ['rejected'],
  cancelled: ['cancelled'],
  expired: ['expired'],
};

/** The one decision event (in `s`) agrees with the row (read through `rows`), which is where that decision leads. */
export async function expectAuditAgrees(s: Store, id: string, decided: Decided, rows: Store = s) {
  expect(await decisionEvents(s, id), id).toEqual([`message.${decided}`]);
  expect(SEEN_AFTER[decided], id).toContain((await rows.getMessage(id))!.status);
}

/** After delivery: an approved message went exactly once to each recipient; anything else never left. */
export async function expectDelivery(s: Store, id: string, decided: Decided) {
  if (decided === 'approved') {
    expect((await s.getMessage(id))!).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await deliveredCopies(s, id), id).toEqual({ inbox: 1, sent: 1, captured: 1, sent_events: 1 });
  } else {
    expect((await s.getMessage(id))!.status).toBe(decided);
    expect(await deliveredCopies(s, id), id).toEqual(NOTHING_DELIVERED);
  }
}
