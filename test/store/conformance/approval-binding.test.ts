/**
 * Approved edits are what is bound and sent, once. And per-thread order: approved replies of one conversation go
 * out in the order they were drafted, without holding back other threads or waiting for held ones. Content
 * changed after approval (under the Store, by SQL) is refused at send time: approval-binding-sqlite.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ATTACHMENT, bindingMailboxes, drafts } from '../drafts.js';
import { ALICE, BOB, T0, auditActions, deliveredCopies, eventsOf, useStore } from '../fixtures.js';

const db = useStore(bindingMailboxes);
const { resetClock, draft, approve, deliver, bobInbox } = drafts(() => db.s);
beforeEach(resetClock);
// Registered after useStore's, so it runs before the database is closed.
afterEach(async () => {
  expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
});

describe('what is approved is what is sent, once', () => {
  it('approve with edits: the edited content is bound and delivered', async () => {
    const id = await draft({ subject: 'Draft subject', text: 'draft text' });
    const before = (await db.s.getMessage(id))!.content_hash;
    const approved = await approve(id, { subject: 'Edited subject', text: 'edited text' });
    expect(approved.approved_hash).toBe(approved.content_hash);
    expect(approved.approved_hash).not.toBe(before);
    await deliver();
    expect((await db.s.getMessage(id))!.status).toBe('sent');
    expect(await bobInbox()).toEqual([{ subject: 'Edited subject', text: 'edited text' }]);
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.edited', 'message.approved', 'message.sent']);
  });

  it('an untouched approval is delivered exactly once, with its attachment', async () => {
    const id = await draft({ subject: 'Untouched' });
    await approve(id);
    await deliver();
    await deliver();
    expect((await db.s.getMessage(id))!.status).toBe('sent');
    expect(await deliveredCopies(db.s, id)).toEqual({ inbox: 1, sent: 1, captured: 0, sent_events: 1 });
    const [copy, ...more] = (await db.s.listEmails({ mailbox: BOB, folder: 'INBOX', unread_only: false, limit: 10 })).filter(
      (e) => e.outbound_message_id === id,
    );
    expect(more).toEqual([]);
    expect(copy!.attachments).toEqual([{ filename: 'terms.txt', content_type: 'text/plain', size: ATTACHMENT.content.length }]);
  });
});

describe('per-thread delivery order', () => {
  /** The order of message.sent events: the audit sequence is the true order of delivery. */
  const sentOrder = async () => (await eventsOf(db.s, 'message.sent')).map((e) => e.message_id);

  it('three replies of one thread approved in reverse order go out in drafting order', async () => {
    // Ids sort against drafting order and all share one created_at, so only the thread rule can give this order.
    const ids = [
      await draft({ subject: 'first' }, { id: 'msg_zzzzzzzzzz3', thread: '<root@x>' }),
      await draft({ subject: 'second' }, { id: 'msg_yyyyyyyyyy2', thread: '<root@x>' }),
      await draft({ subject: 'third' }, { id: 'msg_xxxxxxxxxx1', thread: '<root@x>' }),
    ];
    for (const id of [...ids].reverse()) await approve(id);
    await deliver();
    expect(await sentOrder()).toEqual(ids);
    expect((await bobInbox()).map((e) => e.subject)).toEqual(['first', 'second', 'third']);
  });

  it('a message of another thread is not held back while a thread waits on its earlier message', async () => {
    const a1 = await draft({}, { thread: '<a@x>' });
    const a2 = await draft({}, { thread: '<a@x>' });
    const b1 = await draft({}, { thread: '<b@x>' });
    for (const id of [a1, a2, b1]) await approve(id);
    // Another worker holds a1 mid-delivery.
    const [claimed] = await db.s.claimForDelivery('other-worker', T0 + 2, 600_000, 1, [ALICE]);
    expect(claimed?.message_id).toBe(a1);
    await deliver();
    expect(await sentOrder()).toEqual([b1]);
    expect((await db.s.getMessage(a2))!.status).toBe('approved');
    await db.s.recordOutcome(a1, 'other-worker', { kind: 'sent', detail: {} }, T0 + 3);
    await deliver();
    expect(await sentOrder()).toEqual([b1, a1, a2]);
  });

  it('an earlier message still held does not block a later approved one of its thread', async () => {
    const held = await draft({}, { thread: '<c@x>' });
    const later = await draft({}, { thread: '<c@x>' });
    await approve(later);
    await deliver();
    expect(await sentOrder()).toEqual([later]);
    expect((await db.s.getMessage(held))!.status).toBe('pending');
  });
});
