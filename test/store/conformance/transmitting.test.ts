/**
 * markTransmitting, the final-dot marker: only the lease owner can set it, a worker whose lease was taken over
 * cannot, and lease recovery decides between requeue and outcome_unknown with it.
 */
import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../../src/store/store.js';
import { ALICE, BOB, T0, auditActions, auditCount, auditEvents, content, failure, submit, useTwoInstances } from '../fixtures.js';

const db = useTwoInstances([
  [ALICE, 'autonomous'],
  [BOB, 'autonomous'],
]);

const LEASE = 60_000;
const ALL = [ALICE, BOB];
const EXPIRED = T0 + 2 + LEASE;
const row = (id: string) => db.a.getMessage(id);
const lastEvent = async (id: string) => {
  const { actor, action, at, detail } = (await auditEvents(db.a, { message_id: id })).at(-1)!;
  return { actor, action, at, detail };
};
const retryError = (owner: string) => `delivery lease of ${owner} expired before the message was transmitted; retrying (safe for this transport)`;
const unknownError = (owner: string) => `delivery lease of ${owner} expired after the message was transmitted; it may have been delivered, so it is not resent`;

async function sending(owner = 'w1', subject = 'on its way'): Promise<string> {
  const { message } = await submit(db.a, ALICE, content({ subject }), { now: T0 });
  const claimed = await db.a.claimForDelivery(owner, T0 + 1, LEASE, 10, ALL);
  expect(claimed.map((m) => m.message_id)).toContain(message.message_id);
  return message.message_id;
}

describe('markTransmitting', () => {
  it('is set by the lease owner, and leaves status and lease as they were', async () => {
    const id = await sending('w1');
    const events = await auditCount(db.a);
    await db.b.markTransmitting(id, 'w1', T0 + 2);
    expect(await row(id)).toMatchObject({
      status: 'sending',
      lease_owner: 'w1',
      lease_until: T0 + 1 + LEASE,
      transmitting_at: T0 + 2,
      updated_at: T0 + 2,
      attempts: 0,
    });
    expect((await db.a.getMessage(id))?.transmitting_at).toBe(T0 + 2);
    expect(await auditCount(db.a)).toBe(events);
  });

  it('by any other owner throws and changes nothing', async () => {
    const id = await sending('w1');
    const before = await row(id);
    for (const owner of ['w2', '', 'W1']) {
      expect((await failure(db.b.markTransmitting(id, owner, T0 + 2))).message).toBe(`lease on ${id} lost before transmission; not sending`);
    }
    expect(await row(id)).toEqual(before);
  });

  it('throws for a message that is not being sent: queued, sent, failed, outcome_unknown, or unknown', async () => {
    const queued = (await submit(db.a, BOB, content({ subject: 'queued' }), { now: T0 + 5 })).message.message_id;
    const finals: Record<string, string> = {};
    for (const [status, outcome] of [
      ['sent', { kind: 'sent', detail: {} }],
      ['failed', { kind: 'failed', error: '550' }],
      ['outcome_unknown', { kind: 'unknown', error: 'reset' }],
    ] as const) {
      const id = await sending('w1', status);
      await db.a.markTransmitting(id, 'w1', T0 + 2);
      expect(await db.a.recordOutcome(id, 'w1', outcome, T0 + 3)).toMatchObject({ status });
      finals[status] = id;
    }
    for (const id of [queued, ...Object.values(finals), 'msg_doesnotexist']) {
      const before = await row(id);
      await expect(db.a.markTransmitting(id, 'w1', T0 + 4)).rejects.toThrow(/lost before transmission; not sending/);
      expect(await row(id)).toEqual(before);
    }
  });

  it('from a worker whose lease was recovered and claimed again throws; the new owner can mark and record', async () => {
    const id = await sending('w1');
    expect(await db.b.recoverLeases(EXPIRED, (m) => m.transmitting_at === null)).toMatchObject([{ message_id: id, status: 'queued' }]);
    // Between recovery and the next claim: nobody owns it.
    await expect(db.a.markTransmitting(id, 'w1', EXPIRED)).rejects.toThrow(/lost before transmission/);
    const [again] = await db.b.claimForDelivery('w2', EXPIRED, LEASE, 10, ALL);
    expect(again).toMatchObject({ message_id: id, lease_owner: 'w2', attempts: 0, transmitting_at: null });
    await expect(db.a.markTransmitting(id, 'w1', EXPIRED + 1)).rejects.toThrow(/lost before transmission/);
    expect(await row(id)).toMatchObject({ lease_owner: 'w2', transmitting_at: null });
    await db.b.chargeAttempt(id, 'w2', EXPIRED + 2);
    await expect(db.a.chargeAttempt(id, 'w1', EXPIRED + 2)).rejects.toThrow(/lost before transmission/);
    await db.b.markTransmitting(id, 'w2', EXPIRED + 2);
    expect(await db.a.recordOutcome(id, 'w1', { kind: 'sent', detail: {} }, EXPIRED + 3)).toBeUndefined();
    // One transmission tried (w2's MAIL FROM); w1 died before its own, so it counts nothing.
    expect(await db.b.recordOutcome(id, 'w2', { kind: 'sent', detail: { response: '250 2.0.0 Ok: queued as ABC' } }, EXPIRED + 3)).toMatchObject({
      status: 'sent',
      transmitting_at: EXPIRED + 2,
      smtp_response: '250 2.0.0 Ok: queued as ABC',
      attempts: 1,
    });
    expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.retry_scheduled', 'message.sent']);
  });
});

describe('recoverLeases decides with transmitting_at', () => {
  it('a callback using transmitting_at requeues the untransmitted and marks the transmitted outcome_unknown, with audit', async () => {
    const untransmitted = await sending('w1', 'never reached the dot');
    const transmitted = await sending('w1', 'past the dot');
    await db.a.chargeAttempt(transmitted, 'w1', T0 + 2); // MAIL FROM, as the SMTP sender's hook does
    await db.a.markTransmitting(transmitted, 'w1', T0 + 2);
    const seen: Pick<OutboundMessage, 'message_id' | 'transmitting_at' | 'lease_owner' | 'status'>[] = [];
    const out = await db.b.recoverLeases(EXPIRED, (m) => {
      seen.push({ message_id: m.message_id, transmitting_at: m.transmitting_at, lease_owner: m.lease_owner, status: m.status });
      return m.transmitting_at === null;
    });
    expect(seen.sort((x, y) => x.message_id.localeCompare(y.message_id))).toEqual(
      [
        { message_id: untransmitted, transmitting_at: null, lease_owner: 'w1', status: 'sending' },
        { message_id: transmitted, transmitting_at: T0 + 2, lease_owner: 'w1', status: 'sending' },
      ].sort((x, y) => x.message_id.localeCompare(y.message_id)),
    );
    expect(Object.fromEntries(out.map((m) => [m.message_id, m.status]))).toEqual({ [untransmitted]: 'queued', [transmitted]: 'outcome_unknown' });

    expect(await row(untransmitted)).toMatchObject({
      status: 'queued',
      transmitting_at: null,
      lease_owner: null,
      lease_until: null,
      next_attempt_at: EXPIRED,
      last_error: retryError('w1'),
      attempts: 0,
      updated_at: EXPIRED,
    });
    expect(await auditActions(db.a, untransmitted)).toEqual(['message.submitted', 'message.retry_scheduled']);
    expect(await lastEvent(untransmitted)).toEqual({
      actor: 'system:delivery',
      action: 'message.retry_scheduled',
      at: EXPIRED,
      detail: { error: retryError('w1'), recovered: true },
    });

    expect(await row(transmitted)).toMatchObject({
      status: 'outcome_unknown',
      transmitting_at: T0 + 2,
      lease_owner: null,
      lease_until: null,
      last_error: unknownError('w1'),
      attempts: 1,
      sent_at: null,
    });
    expect(await auditActions(db.a, transmitted)).toEqual(['message.submitted', 'message.outcome_unknown']);
    expect(await lastEvent(transmitted)).toEqual({
      actor: 'system:delivery',
      action: 'message.outcome_unknown',
      at: EXPIRED,
      detail: { error: unknownError('w1'), recovered: true },
    });

    // Only the requeued one is ever delivered again, and neither is recovered twice.
    const claimed = await db.a.claimForDelivery('w2', EXPIRED + 10 ** 9, LEASE, 10, ALL);
    expect(claimed.map((m) => m.message_id)).toEqual([untransmitted]);
    expect(await db.b.recoverLeases(EXPIRED + 1, () => true)).toEqual([]);
    expect(await row(transmitted)).toMatchObject({ status: 'outcome_unknown', transmitting_at: T0 + 2 });
    expect(await db.a.verifyAudit()).toMatchObject({ ok: true });
  });

  it('a callback that retries a transmitted message (an idempotent sender) requeues it with transmitting_at cleared', async () => {
    const id = await sending('w1');
    await db.a.markTransmitting(id, 'w1', T0 + 2);
    expect(await db.b.recoverLeases(EXPIRED, () => true)).toMatchObject([{ message_id: id, status: 'queued', transmitting_at: null }]);
    expect(await row(id)).toMatchObject({ status: 'queued', transmitting_at: null, next_attempt_at: EXPIRED });
    expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.retry_scheduled']);
  });

  it('a callback that refuses an untransmitted message leaves it outcome_unknown with transmitting_at still null', async () => {
    const id = await sending('w1');
    expect(await db.b.recoverLeases(EXPIRED, () => false)).toMatchObject([{ message_id: id, status: 'outcome_unknown', transmitting_at: null }]);
    expect(await auditActions(db.a, id)).toEqual(['message.submitted', 'message.outcome_unknown']);
  });

  it('a lease still valid is not offered to the callback, transmitted or not', async () => {
    const id = await sending('w1');
    await db.a.markTransmitting(id, 'w1', T0 + 2);
    const seen: string[] = [];
    expect(
      await db.b.recoverLeases(T0 + 1 + LEASE, (m) => {
        seen.push(m.message_id);
        return true;
      }),
    ).toEqual([]);
    expect(seen).toEqual([]);
    expect(await row(id)).toMatchObject({ status: 'sending', lease_owner: 'w1', transmitting_at: T0 + 2 });
  });
});

describe('outcomes after transmitting', () => {
  it('retry clears transmitting_at, so the next attempt starts unmarked', async () => {
    const id = await sending('w1');
    await db.a.markTransmitting(id, 'w1', T0 + 2);
    const m = await db.a.recordOutcome(id, 'w1', { kind: 'retry', error: '421 closing', next_attempt_at: T0 + 100 }, T0 + 3);
    expect(m).toMatchObject({ status: 'queued', transmitting_at: null, last_error: '421 closing', next_attempt_at: T0 + 100 });
    const [again] = await db.b.claimForDelivery('w2', T0 + 100, LEASE, 10, ALL);
    expect(again).toMatchObject({ message_id: id, transmitting_at: null, attempts: 0 });
    // Died again before the dot: safe to retry by transmitting_at.
    expect(await db.a.recoverLeases(T0 + 101 + LEASE, (x) => x.transmitting_at === null)).toMatchObject([{ message_id: id, status: 'queued' }]);
  });

  it('unknown and sent keep transmitting_at; sent stores the server response and failed the error', async () => {
    const unknown = await sending('w1', 'unknown');
    const sent = await sending('w1', 'sent');
    const failed = await sending('w1', 'failed');
    for (const id of [unknown, sent, failed]) await db.a.markTransmitting(id, 'w1', T0 + 2);
    expect(await db.a.recordOutcome(unknown, 'w1', { kind: 'unknown', error: 'connection reset after DATA' }, T0 + 3)).toMatchObject({
      status: 'outcome_unknown',
      transmitting_at: T0 + 2,
      last_error: 'connection reset after DATA',
      smtp_response: null,
    });
    expect(await db.a.recordOutcome(sent, 'w1', { kind: 'sent', detail: { response: '250 OK id=1' } }, T0 + 3)).toMatchObject({
      status: 'sent',
      transmitting_at: T0 + 2,
      smtp_response: '250 OK id=1',
      sent_at: T0 + 3,
    });
    expect(await db.a.recordOutcome(failed, 'w1', { kind: 'failed', error: '554 5.7.1 rejected' }, T0 + 3)).toMatchObject({
      status: 'failed',
      smtp_response: '554 5.7.1 rejected',
      last_error: '554 5.7.1 rejected',
    });
  });
});
