/** Idempotency keys: same key and content replays the first message; other content is a conflict; keys are per mailbox. */
import { describe, expect, it } from 'vitest';
import { ALICE, BOB, OPERATOR, T0, addMailbox, auditCount, content, failure, messageCount, submit, useStore } from '../fixtures.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE);
  await addMailbox(s, BOB);
});

describe('same key, same content', () => {
  it('returns the first message, replayed, with no second row and no second event', async () => {
    const first = await submit(db.s, ALICE, content(), { key: 'order-1' });
    const [m, a] = [await messageCount(db.s), await auditCount(db.s)];
    const again = await submit(db.s, ALICE, content(), { key: 'order-1', now: T0 + 5000 });
    expect(first.replayed).toBe(false);
    expect(again.replayed).toBe(true);
    expect(again.message).toMatchObject(first.message);
    expect(again.decision).toEqual(first.decision);
    expect([await messageCount(db.s), await auditCount(db.s)]).toEqual([m, a]);
  });

  it('replays from a second instance too', async () => {
    const other = db.t.open();
    const first = await submit(db.s, ALICE, content(), { key: 'order-2' });
    const again = await submit(other, ALICE, content(), { key: 'order-2' });
    expect(again).toMatchObject({ replayed: true, message: { message_id: first.message.message_id } });
    expect(await messageCount(db.s)).toBe(1);
  });

  it('replays the message as it is now, and the decision recorded at submit (never re-gated)', async () => {
    const first = await submit(db.s, ALICE, content(), { key: 'order-3' });
    await db.s.decideMessage(first.message.message_id, { action: 'reject', actor: 'reviewer:r', reason: 'no' }, T0 + 1);
    await db.s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'loosen', T0 + 2);
    const again = await submit(db.s, ALICE, content(), { key: 'order-3', now: T0 + 3 });
    expect(again.replayed).toBe(true);
    expect(again.message).toMatchObject({ message_id: first.message.message_id, status: 'rejected', decision_reason: 'no' });
    expect(again.decision).toEqual({ outcome: 'hold', code: 'mode_requires_approval', reason: first.decision.reason });
    expect(await messageCount(db.s)).toBe(1);
  });

  it('an agent retrying its original content after a reviewer approved it with edits gets the same message', async () => {
    // The agent timed out, the reviewer fixed a typo and approved, the agent retries with the same key and body.
    const first = await submit(db.s, ALICE, content({ subject: 'Quartely numbers' }), { key: 'order-4' });
    await db.s.decideMessage(first.message.message_id, { action: 'approve', actor: 'reviewer:r', edits: { subject: 'Quarterly numbers' } }, T0 + 1);
    const [m, a] = [await messageCount(db.s), await auditCount(db.s)];
    const again = await submit(db.s, ALICE, content({ subject: 'Quartely numbers' }), { key: 'order-4', now: T0 + 2 });
    expect(again).toMatchObject({ replayed: true, message: { message_id: first.message.message_id, status: 'approved' } });
    expect([await messageCount(db.s), await auditCount(db.s)]).toEqual([m, a]);
  });
});

describe('same key, different content', () => {
  const variants: [string, Parameters<typeof content>[0]][] = [
    ['subject', { subject: 'Other' }],
    ['body', { text: 'Other body' }],
    ['an added bcc', { bcc: ['spy@evil.example'] }],
    ['recipient order', { to: ['a@x.example', 'b@x.example'] }],
  ];
  for (const [what, change] of variants) {
    it(`a different ${what} is IDEMPOTENCY_CONFLICT naming the first message, and writes nothing`, async () => {
      const base = what === 'recipient order' ? content({ to: ['b@x.example', 'a@x.example'] }) : content();
      const first = await submit(db.s, ALICE, base, { key: 'k' });
      const [m, a] = [await messageCount(db.s), await auditCount(db.s)];
      const err = await failure(submit(db.s, ALICE, content(change), { key: 'k' }));
      expect(err).toMatchObject({
        name: 'MailgateError',
        code: 'IDEMPOTENCY_CONFLICT',
        field: 'idempotency_key',
        details: { message_id: first.message.message_id },
      });
      expect(err.message).toContain(first.message.message_id);
      expect([await messageCount(db.s), await auditCount(db.s)]).toEqual([m, a]);
    });
  }

  it('the conflict holds from a second instance', async () => {
    await submit(db.s, ALICE, content(), { key: 'k2' });
    expect((await failure(submit(db.t.open(), ALICE, content({ subject: 'x' }), { key: 'k2' }))).code).toBe('IDEMPOTENCY_CONFLICT');
  });
});

describe('keys are scoped per mailbox', () => {
  it('the same key in two mailboxes makes two messages, each replayable in its own mailbox', async () => {
    const a = await submit(db.s, ALICE, content(), { key: 'shared' });
    const b = await submit(db.s, BOB, content(), { key: 'shared' });
    expect(a.replayed).toBe(false);
    expect(b.replayed).toBe(false);
    expect(b.message.message_id).not.toBe(a.message.message_id);
    expect(b.message.mailbox).toBe(BOB);
    expect((await submit(db.s, BOB, content(), { key: 'shared' })).message.message_id).toBe(b.message.message_id);
    expect((await submit(db.s, ALICE, content(), { key: 'shared' })).message.message_id).toBe(a.message.message_id);
    expect(await messageCount(db.s)).toBe(2);
  });

  it('different content under the same key in another mailbox is not a conflict', async () => {
    await submit(db.s, ALICE, content(), { key: 'k3' });
    const b = await submit(db.s, BOB, content({ subject: 'unrelated' }), { key: 'k3' });
    expect(b).toMatchObject({ replayed: false, message: { mailbox: BOB, subject: 'unrelated' } });
  });

  it('without a key, identical submissions are separate messages', async () => {
    await submit(db.s, ALICE);
    await submit(db.s, ALICE);
    expect(await messageCount(db.s)).toBe(2);
  });
});
