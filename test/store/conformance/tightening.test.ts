/**
 * Tightening a mode applies to everything not yet transmitted (reliability G6): mail the gate itself let go
 * goes back to the approval queue (or is cancelled under read_only) and is never sent on the old mode's say-so;
 * what a human approved stands; a worker already holding a taken-back message sends nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  ALICE,
  BOB,
  NOTHING_DELIVERED,
  OPERATOR,
  T0,
  TTL_S,
  addMailbox,
  auditActions,
  content,
  deliveredCopies,
  eventsOf,
  sandboxWorker,
  submit,
  useStore,
} from '../fixtures.js';

const db = useStore();

const queuedSend = async (subject: string) => {
  const r = await submit(db.s, ALICE, content({ subject }), { now: T0 + 1 });
  expect(r.message.status).toBe('queued');
  return r.message.message_id;
};

describe('autonomous -> gated_send with mail queued but not yet sent', () => {
  it('holds the gate-released mail again, audits it, and the worker sends nothing', async () => {
    await addMailbox(db.s, ALICE, 'autonomous');
    const ids = [await queuedSend('one'), await queuedSend('two')];
    const r = await db.s.updateMailbox(ALICE, { oversight_mode: 'gated_send' }, OPERATOR, 'incident: review everything', T0 + 10);
    expect(r.retaken).toBe(2);
    for (const id of ids) {
      const m = (await db.s.getMessage(id))!;
      expect(m).toMatchObject({ status: 'pending', expires_at: T0 + 10 + TTL_S * 1000, approved_hash: null, decided_by: null });
      expect(m.gate_reason).toMatch(/gated_send mode now applies: incident/);
      expect(await auditActions(db.s, id)).toEqual(['message.submitted', 'message.held']);
    }
    await sandboxWorker(db.s, () => T0 + 20).tick();
    for (const id of ids) expect(await deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
    const [change, ...more] = await eventsOf(db.s, 'mailbox.mode_changed');
    expect(more).toEqual([]);
    expect((change!.detail.retaken as string[]).sort()).toEqual([...ids].sort());
    // A human can now decide them like any held message.
    await db.s.decideMessage(ids[0]!, { action: 'approve', actor: 'reviewer:test' }, T0 + 30);
    await sandboxWorker(db.s, () => T0 + 31).tick();
    expect((await deliveredCopies(db.s, ids[0]!)).sent_events).toBe(1);
    expect(await deliveredCopies(db.s, ids[1]!)).toEqual(NOTHING_DELIVERED);
  });

  it('leaves a human approval standing', async () => {
    await addMailbox(db.s, ALICE, 'gated_send');
    const held = await submit(db.s, ALICE, content({ subject: 'approved by a person' }), { now: T0 + 1 });
    await db.s.decideMessage(held.message.message_id, { action: 'approve', actor: 'reviewer:test' }, T0 + 2);
    const r = await db.s.updateMailbox(ALICE, { oversight_mode: 'gated_all' }, OPERATOR, 'tighter', T0 + 3);
    expect(r.retaken).toBe(0);
    expect((await db.s.getMessage(held.message.message_id))!.status).toBe('approved');
  });

  it('does not touch other mailboxes', async () => {
    await addMailbox(db.s, ALICE, 'autonomous');
    await addMailbox(db.s, BOB, 'autonomous');
    const bob = await submit(db.s, BOB, content({ subject: 'bob stays' }), { now: T0 + 1 });
    await db.s.updateMailbox(ALICE, { oversight_mode: 'gated_send' }, OPERATOR, 'only alice', T0 + 2);
    expect((await db.s.getMessage(bob.message.message_id))!.status).toBe('queued');
  });
});

describe('-> read_only', () => {
  it('cancels gate-released unsent mail with the reason', async () => {
    await addMailbox(db.s, ALICE, 'monitored');
    const id = await queuedSend('stop this');
    await db.s.updateMailbox(ALICE, { oversight_mode: 'read_only' }, OPERATOR, 'freeze', T0 + 5);
    expect(await db.s.getMessage(id)).toMatchObject({
      status: 'cancelled',
      decided_by: OPERATOR,
      decision_reason: expect.stringMatching(/read_only mode now applies: freeze/),
    });
    await sandboxWorker(db.s, () => T0 + 6).tick();
    expect(await deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
  });
});

describe('a worker holding the message when the mode tightens', () => {
  it('loses it at the final-dot check and sends nothing', async () => {
    await addMailbox(db.s, ALICE, 'autonomous');
    const id = await queuedSend('in flight');
    const [claimed] = await db.s.claimForDelivery('worker-1', T0 + 2, 60_000, 10, [ALICE]);
    expect(claimed?.message_id).toBe(id);
    await db.s.updateMailbox(ALICE, { oversight_mode: 'gated_send' }, OPERATOR, 'stop', T0 + 3);
    await expect(db.s.markTransmitting(id, 'worker-1', T0 + 4)).rejects.toThrow(/lease .* lost/);
    expect(await db.s.recordOutcome(id, 'worker-1', { kind: 'sent', detail: {} }, T0 + 5)).toBeUndefined();
    expect((await db.s.getMessage(id))!.status).toBe('pending');
  });

  it('after the final dot, the mode change leaves it alone (it may already be accepted)', async () => {
    await addMailbox(db.s, ALICE, 'autonomous');
    const id = await queuedSend('past the dot');
    await db.s.claimForDelivery('worker-1', T0 + 2, 60_000, 10, [ALICE]);
    await db.s.markTransmitting(id, 'worker-1', T0 + 3);
    const r = await db.s.updateMailbox(ALICE, { oversight_mode: 'gated_send' }, OPERATOR, 'too late', T0 + 4);
    expect(r.retaken).toBe(0);
    expect((await db.s.getMessage(id))!.status).toBe('sending');
  });
});

describe('loosening', () => {
  it('retakes nothing and releases nothing', async () => {
    await addMailbox(db.s, ALICE, 'gated_send');
    const held = await submit(db.s, ALICE, content({ subject: 'still held' }), { now: T0 + 1 });
    const r = await db.s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'looser', T0 + 2);
    expect(r.retaken).toBe(0);
    expect((await db.s.getMessage(held.message.message_id))!.status).toBe('pending');
  });
});
