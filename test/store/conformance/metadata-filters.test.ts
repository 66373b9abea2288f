/**
 * list_pending's filters in the store, on both backends: metadata pairs compared as JSON scalars (SQLite's
 * json_extract and PostgreSQL's jsonb differ, so the same cases run on each), and the status listing, newest
 * first with keyset paging. Scope (a principal's mailboxes) holds for both.
 */
import { describe, expect, it } from 'vitest';
import { newMessageId, newMessageIdHeader } from '../../../src/ids.js';
import type { Store } from '../../../src/store/store.js';
import { ALICE, AGENT, BOB, BULK_POLICY, T0, addMailbox, content, gateFor, useStore } from '../fixtures.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'gated_send');
});
let serial = 0;

/** A held send carrying `metadata`, drafted at `at`. */
async function hold(s: Store, mailbox: string, metadata: Record<string, unknown> | null, at = T0): Promise<string> {
  const c = content({ subject: `metadata ${++serial}` });
  const r = await s.submitMessage(
    {
      message_id: newMessageId(),
      message_id_header: newMessageIdHeader(mailbox),
      mailbox,
      kind: 'send',
      content: c,
      metadata,
      idempotency_key: null,
      actor: AGENT,
      policy: BULK_POLICY,
    },
    gateFor(c, false, mailbox),
    at,
  );
  expect(r.message.status).toBe('pending');
  return r.message.message_id;
}

const pendingIds = async (s: Store, metadata: Record<string, string | number | boolean>, mailboxes?: string[]) =>
  (await s.listPending({ metadata, mailboxes, limit: 50, now: T0 + 1 })).messages.map((m) => m.message_id).sort();

describe('listPending metadata filter', () => {
  it('matches every pair, as JSON scalars: a string "7" is not the number 7, true is not 1', async () => {
    const s = db.s;
    const ticket = await hold(s, ALICE, { ticket: 'T-7', priority: 2, urgent: true, 'case.id': 'a-1' });
    const stringy = await hold(s, ALICE, { ticket: 'T-8', priority: '2', urgent: 'true' });
    const one = await hold(s, ALICE, { ticket: 'T-9', urgent: 1, ratio: 0.5 });
    await hold(s, ALICE, null);

    expect(await pendingIds(s, { ticket: 'T-7' })).toEqual([ticket]);
    expect(await pendingIds(s, { priority: 2 })).toEqual([ticket]);
    expect(await pendingIds(s, { priority: '2' })).toEqual([stringy]);
    expect(await pendingIds(s, { urgent: true })).toEqual([ticket]);
    expect(await pendingIds(s, { urgent: 'true' })).toEqual([stringy]);
    expect(await pendingIds(s, { urgent: 1 })).toEqual([one]);
    expect(await pendingIds(s, { ratio: 0.5 })).toEqual([one]);
    expect(await pendingIds(s, { 'case.id': 'a-1' })).toEqual([ticket]);
    // Two pairs: both must match.
    expect(await pendingIds(s, { ticket: 'T-7', priority: 2 })).toEqual([ticket]);
    expect(await pendingIds(s, { ticket: 'T-7', priority: 3 })).toEqual([]);
    expect(await pendingIds(s, { missing: 'x' })).toEqual([]);
    expect(await pendingIds(s, {})).toHaveLength(4);
  });

  it('keeps to the principal mailboxes and takes no key that could leave the JSON path', async () => {
    const s = db.s;
    const mine = await hold(s, ALICE, { ticket: 'same' });
    await hold(s, BOB, { ticket: 'same' });
    expect(await pendingIds(s, { ticket: 'same' }, [ALICE])).toEqual([mine]);
    expect(await pendingIds(s, { ticket: 'same' })).toHaveLength(2);
    await expect(s.listPending({ metadata: { 'a"] OR 1=1 --': 'x' }, limit: 5, now: T0 })).rejects.toThrow('bad metadata key');
  });
});

describe('listByStatus', () => {
  it('lists one status or any, newest first, paged by cursor, with the metadata filter', async () => {
    const s = db.s;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await hold(s, ALICE, { batch: i % 2 === 0 ? 'even' : 'odd' }, T0 + i * 1000));
    await hold(s, BOB, { batch: 'even' }, T0 + 10_000);
    await s.decideMessage(ids[0]!, { action: 'reject', actor: 'reviewer:test', reason: 'no' }, T0 + 20_000);
    await s.decideMessage(ids[2]!, { action: 'reject', actor: 'reviewer:test', reason: 'no' }, T0 + 20_000);
    await s.decideMessage(ids[3]!, { action: 'cancel', actor: AGENT }, T0 + 20_000);

    const rejected = await s.listByStatus({ status: 'rejected', limit: 10 });
    expect(rejected.messages.map((m) => m.message_id)).toEqual([ids[2], ids[0]]);
    expect(rejected.messages.every((m) => m.status === 'rejected')).toBe(true);
    expect((await s.listByStatus({ status: 'cancelled', limit: 10 })).messages.map((m) => m.message_id)).toEqual([ids[3]]);
    expect((await s.listByStatus({ status: 'sent', limit: 10 })).messages).toEqual([]);

    // any, scoped to ALICE, two at a time: newest first across pages, nothing repeated or skipped.
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.listByStatus({ status: 'any', mailboxes: [ALICE], limit: 2, cursor });
      seen.push(...page.messages.map((m) => m.message_id));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const even = await s.listByStatus({ status: 'any', mailbox: ALICE, metadata: { batch: 'even' }, limit: 10 });
    expect(even.messages.map((m) => m.message_id)).toEqual([ids[4], ids[2], ids[0]]);
    const evenRejected = await s.listByStatus({ status: 'rejected', metadata: { batch: 'even' }, limit: 10 });
    expect(evenRejected.messages.map((m) => m.message_id)).toEqual([ids[2], ids[0]]);
  });
});
