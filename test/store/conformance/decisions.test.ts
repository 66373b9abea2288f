/** Decisions: approve / reject / cancel only from pending, expiry as a decision, edits bound to a new content hash. */
import { describe, expect, it } from 'vitest';
import type { DecideRequest } from '../../../src/store/store.js';
import {
  ALICE,
  BOB,
  CAROL,
  T0,
  TTL_S,
  addMailbox,
  auditActions,
  auditCount,
  content,
  decisionEvents,
  eventsOf,
  failure,
  submit,
  useStore,
} from '../fixtures.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'autonomous');
  await addMailbox(s, CAROL, 'read_only');
});

const EXPIRES = T0 + TTL_S * 1000;
/** Every mailbox the suite created: the process can deliver for all of them. */
const ALL = [ALICE, BOB, CAROL];
const held = async (subject = 'held', now = T0) => (await submit(db.s, ALICE, content({ subject }), { now })).message.message_id;
const approve: DecideRequest = { action: 'approve', actor: 'reviewer:r' };
const reject: DecideRequest = { action: 'reject', actor: 'reviewer:r', reason: 'no' };
const cancel: DecideRequest = { action: 'cancel', actor: 'agent:a' };

/** One message in each non-pending status, reached through the store's own operations. */
async function everyOtherStatus(): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const status of ['sending', 'sent', 'failed', 'outcome_unknown']) {
    ids[status] = (await submit(db.s, BOB, content({ subject: status }), { now: T0 + 1 })).message.message_id;
  }
  expect((await db.s.claimForDelivery('w', T0 + 1, 60_000, 100, ALL)).length).toBe(4);
  await db.s.recordOutcome(ids.sent!, 'w', { kind: 'sent', detail: {} }, T0 + 3);
  await db.s.recordOutcome(ids.failed!, 'w', { kind: 'failed', error: '550' }, T0 + 3);
  await db.s.recordOutcome(ids.outcome_unknown!, 'w', { kind: 'unknown', error: 'lost after DATA' }, T0 + 3);
  ids.queued = (await submit(db.s, BOB, content({ subject: 'q' }), { now: T0 + 2 })).message.message_id;
  ids.approved = await held('a');
  await db.s.decideMessage(ids.approved, approve, T0 + 1);
  ids.rejected = await held('r');
  await db.s.decideMessage(ids.rejected, reject, T0 + 1);
  ids.cancelled = await held('c');
  await db.s.decideMessage(ids.cancelled, cancel, T0 + 1);
  ids.expired = await held('e', T0 - TTL_S * 1000);
  await db.s.expireDue(T0, 10);
  ids.blocked = (await submit(db.s, CAROL)).message.message_id;
  for (const [status, id] of Object.entries(ids)) expect((await db.s.getMessage(id))?.status, status).toBe(status);
  return ids;
}

describe('only a pending message can be decided', () => {
  it('approve, reject and cancel of every other status throw NOT_PENDING naming it, and change nothing', async () => {
    const ids = await everyOtherStatus();
    expect(Object.keys(ids).length).toBe(10);
    for (const [label, id] of Object.entries(ids)) {
      const status = (await db.s.getMessage(id))!.status;
      const before = await db.s.getMessage(id);
      const events = await auditCount(db.s);
      for (const req of [approve, reject, cancel]) {
        const err = await failure(db.s.decideMessage(id, req, T0 + 5));
        expect(err.code, `${req.action} ${label}`).toBe('NOT_PENDING');
        expect(err.message).toContain(`cannot ${req.action} ${id}: it is ${status}, not pending`);
        expect(err.details).toEqual({ status });
      }
      expect(await db.s.getMessage(id), label).toEqual(before);
      expect(await auditCount(db.s)).toBe(events);
    }
  });

  it('a decided message cannot be decided again, by the same or another instance', async () => {
    const id = await held();
    await db.s.decideMessage(id, approve, T0 + 1);
    const other = db.t.open();
    await expect(db.s.decideMessage(id, approve, T0 + 2)).rejects.toMatchObject({ code: 'NOT_PENDING', details: { status: 'approved' } });
    await expect(other.decideMessage(id, reject, T0 + 2)).rejects.toMatchObject({ code: 'NOT_PENDING', details: { status: 'approved' } });
    expect(await decisionEvents(db.s, id)).toEqual(['message.approved']);
  });

  it('an unknown id is UNKNOWN_MESSAGE, not NOT_PENDING', async () => {
    await expect(db.s.decideMessage('msg_nope', approve, T0)).rejects.toMatchObject({ code: 'UNKNOWN_MESSAGE', field: 'message_id' });
  });
});

describe('expiry is a decision', () => {
  for (const [name, req] of [
    ['approve', approve],
    ['reject', reject],
    ['cancel', cancel],
  ] as const) {
    for (const late of [0, 1, 86_400_000]) {
      it(`${name} at expires_at + ${late}ms fails with NOT_PENDING expired and records the expiry`, async () => {
        const id = await held();
        const now = EXPIRES + late;
        const err = await failure(db.s.decideMessage(id, req, now));
        expect(err).toMatchObject({ code: 'NOT_PENDING', details: { status: 'expired' } });
        expect(err.message).toContain('it is expired, not pending');
        expect(await db.s.getMessage(id)).toMatchObject({ status: 'expired', decided_at: now, decided_by: 'system:expiry', decision_reason: null });
        expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.expired']);
        const [ev] = await eventsOf(db.s, 'message.expired');
        expect(ev).toMatchObject({ actor: 'system:expiry', at: now, message_id: id, detail: { expires_at: EXPIRES } });
        expect(Object.keys(ev!.detail)).toEqual(['expires_at']);
        // Asking again changes nothing more.
        await expect(db.s.decideMessage(id, req, now + 1)).rejects.toMatchObject({ code: 'NOT_PENDING', details: { status: 'expired' } });
        expect(await decisionEvents(db.s, id)).toEqual(['message.expired']);
        expect(await db.s.claimForDelivery('w', now + 10 ** 9, 1000, 10, ALL)).toEqual([]);
      });
    }
  }

  it('approve 1ms before expires_at succeeds', async () => {
    const id = await held();
    expect(await db.s.decideMessage(id, approve, EXPIRES - 1)).toMatchObject({ status: 'approved', decided_at: EXPIRES - 1 });
    expect(await db.s.expireDue(EXPIRES + 1, 10)).toEqual([]);
    expect(await decisionEvents(db.s, id)).toEqual(['message.approved']);
  });

  it('expireDue expires exactly the pending rows that are due, up to the limit, and is idempotent', async () => {
    const due1 = await held('due1', T0 - 2);
    const due2 = await held('due2', T0 - 1);
    const due3 = await held('due3', T0);
    const notYet = await held('notYet', T0 + 1);
    const approved = await held('approved', T0 - 5);
    await db.s.decideMessage(approved, approve, T0 - 4);
    const rejected = await held('rejected', T0 - 5);
    await db.s.decideMessage(rejected, reject, T0 - 4);
    const queued = (await submit(db.s, BOB, content(), { now: T0 - 5 })).message.message_id;

    // Before any sweep, mail past its expiry is already not offered for review.
    expect((await db.s.listPending({ limit: 10, now: EXPIRES })).messages.map((m) => m.message_id)).toEqual([notYet]);
    const first = await db.s.expireDue(EXPIRES, 2);
    expect(first.map((m) => m.message_id)).toEqual([due1, due2]);
    const second = await db.s.expireDue(EXPIRES, 100);
    expect(second.map((m) => m.message_id)).toEqual([due3]);
    expect(await db.s.expireDue(EXPIRES, 100)).toEqual([]);

    const statuses = Object.fromEntries(
      await Promise.all(
        Object.entries({ due1, due2, due3, notYet, approved, rejected, queued }).map(async ([k, id]) => [k, (await db.s.getMessage(id))!.status]),
      ),
    );
    expect(statuses).toEqual({
      due1: 'expired',
      due2: 'expired',
      due3: 'expired',
      notYet: 'pending',
      approved: 'approved',
      rejected: 'rejected',
      queued: 'queued',
    });
    for (const id of [due1, due2, due3]) expect(await decisionEvents(db.s, id)).toEqual(['message.expired']);
    expect(await decisionEvents(db.s, notYet)).toEqual([]);
    expect((await db.s.listPending({ limit: 10, now: EXPIRES })).messages.map((m) => m.message_id)).toEqual([notYet]);
  });
});

describe('approve with edits', () => {
  it('stores the original content, applies the edits and binds the approval to the new content hash', async () => {
    const id = await held('Draft');
    const before = (await db.s.getMessage(id))!;
    const edits = { subject: 'Final', text: 'Corrected body', cc: [CAROL] };
    const m = await db.s.decideMessage(id, { action: 'approve', actor: 'reviewer:r', edits }, T0 + 1);
    expect(m).toMatchObject({ status: 'approved', subject: 'Final', text: 'Corrected body', cc: [CAROL], to: before.to });
    expect(m.original_content).toEqual({ to: before.to, cc: [], bcc: [], subject: 'Draft', text: before.text, html: null });
    expect(m.content_hash).not.toBe(before.content_hash);
    // The new hash is the hash of exactly the edited content, as a fresh submission of it would get.
    const fresh = await submit(db.s, ALICE, content({ subject: 'Final', text: 'Corrected body', cc: [CAROL] }));
    expect(m.content_hash).toBe(fresh.message.content_hash);
    // Stored, not only returned: read back as any later reader sees it.
    expect((await db.s.getMessage(id))!.original_content).toEqual(m.original_content);
  });

  it('edits equal to the current content are no edit: no original_content, same hash, no message.edited', async () => {
    const id = await held('Same');
    const before = (await db.s.getMessage(id))!;
    const m = await db.s.decideMessage(id, { action: 'approve', actor: 'reviewer:r', edits: { subject: 'Same', to: before.to } }, T0 + 1);
    expect(m).toMatchObject({ status: 'approved', original_content: null, content_hash: before.content_hash });
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.approved']);
  });

  it('edits on a late approval are not applied', async () => {
    const id = await held('Late');
    const before = (await db.s.getMessage(id))!;
    await expect(db.s.decideMessage(id, { action: 'approve', actor: 'r', edits: { subject: 'x' } }, EXPIRES)).rejects.toMatchObject({ code: 'NOT_PENDING' });
    expect(await db.s.getMessage(id)).toMatchObject({ status: 'expired', subject: 'Late', content_hash: before.content_hash, original_content: null });
  });
});
