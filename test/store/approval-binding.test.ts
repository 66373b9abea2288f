/**
 * An approval binds to the exact content the reviewer saw: content changed afterwards (here by raw SQL, the
 * way any stray code path or a hand edit of the file would) is refused by the delivery worker, never sent.
 * Approved edits are what is bound and sent. And per-thread order: approved replies of one conversation go
 * out in the order they were drafted, without holding back other threads or waiting for held ones.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newMessageIdHeader } from '../../src/ids.js';
import type { MessageContent, NewAttachment } from '../../src/store/store.js';
import {
  ALICE,
  auditActions,
  BOB,
  CAROL,
  content,
  count,
  deliveredCopies,
  gateFor,
  NOTHING_DELIVERED,
  sandboxWorker,
  T0,
  addMailbox,
  useStore,
} from './fixtures.js';

const REVIEWER = 'reviewer:test';
const ATTACHMENT: NewAttachment = { filename: 'terms.txt', content_type: 'text/plain', content: Buffer.from('Net 30 days.\n') };

/** A fresh file per test: ALICE's drafts are held; BOB and CAROL are sandbox recipients (an INBOX copy proves delivery). */
const db = useStore(async (s) => {
  await addMailbox(s, ALICE, 'gated_send', { policy: { dedupe_window: 0 } });
  for (const rcpt of [BOB, CAROL]) await addMailbox(s, rcpt, 'autonomous');
});
let clock = T0;
beforeEach(() => {
  clock = T0;
});
// Registered after useStore's, so it runs before the database is closed.
afterEach(async () => {
  expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
});

let serial = 0;
/** Submits from ALICE with an attachment; `id` and `thread` let a test fix the message id and the thread. */
async function draft(c: Partial<MessageContent> = {}, o: { id?: string; thread?: string; mailbox?: string } = {}) {
  const full = content({ to: [BOB], subject: `draft ${++serial}`, html: '<p>Hello there</p>', ...c });
  const mailbox = o.mailbox ?? ALICE;
  const r = await db.s.submitMessage(
    {
      message_id: o.id ?? `msg_binding${String(serial).padStart(9, '0')}`,
      message_id_header: newMessageIdHeader(mailbox),
      mailbox,
      kind: 'send',
      content: full,
      actor: 'agent:test',
      attachments: [ATTACHMENT],
      thread_key: o.thread ?? null,
    },
    gateFor(full, false, mailbox),
    T0,
  );
  return r.message.message_id;
}
const approve = (id: string, edits?: Partial<MessageContent>) => db.s.decideMessage(id, { action: 'approve', actor: REVIEWER, edits: edits ?? null }, T0 + 1);
const deliver = () => sandboxWorker(db.s, () => ++clock).tick();
const sql = (text: string, ...params: unknown[]) => db.s.db.prepare(text).run(...params);
const bobInbox = () =>
  db.s.db.prepare("SELECT subject, text_body AS text FROM emails WHERE mailbox = ? AND folder = 'INBOX' ORDER BY rowid").all(BOB) as {
    subject: string;
    text: string;
  }[];

describe('content changed after approval is refused at send time', () => {
  const TAMPER: [string, (id: string) => void][] = [
    ['subject', (id) => sql("UPDATE messages SET subject = 'Wire the money today' WHERE message_id = ?", id)],
    ['text body', (id) => sql("UPDATE messages SET text_body = 'New bank details: ...' WHERE message_id = ?", id)],
    ['html body', (id) => sql("UPDATE messages SET html_body = '<p>New bank details</p>' WHERE message_id = ?", id)],
    ['to: a recipient added', (id) => sql('UPDATE messages SET to_addrs = ? WHERE message_id = ?', JSON.stringify([BOB, CAROL]), id)],
    ['to: the recipient swapped', (id) => sql('UPDATE messages SET to_addrs = ? WHERE message_id = ?', JSON.stringify([CAROL]), id)],
    ['cc added', (id) => sql('UPDATE messages SET cc_addrs = ? WHERE message_id = ?', JSON.stringify([CAROL]), id)],
    ['bcc added', (id) => sql('UPDATE messages SET bcc_addrs = ? WHERE message_id = ?', JSON.stringify(['spy@evil.example']), id)],
    ['attachment bytes', (id) => sql("UPDATE message_attachments SET content = CAST('Net 90 days.' AS BLOB) WHERE message_id = ?", id)],
    [
      'attachment bytes and their recorded sha256',
      (id) => sql("UPDATE message_attachments SET content = CAST('x' AS BLOB), sha256 = 'f' WHERE message_id = ?", id),
    ],
    ['attachment renamed', (id) => sql("UPDATE message_attachments SET filename = 'invoice.exe' WHERE message_id = ?", id)],
    ['attachment removed', (id) => sql("UPDATE messages SET attachments = '[]' WHERE message_id = ?", id)],
    [
      'an attachment added',
      (id) =>
        sql(
          `INSERT INTO message_attachments (message_id, idx, filename, content_type, size, sha256, content)
      VALUES (?, 1, 'extra.txt', 'text/plain', 1, 'x', CAST('x' AS BLOB))`,
          id,
        ),
    ],
  ];

  it.each(TAMPER)('%s', async (_, tamper) => {
    const id = await draft();
    await approve(id);
    tamper(id);
    await deliver();
    const m = (await db.s.getMessage(id))!;
    expect(m.status).toBe('failed');
    expect(m.last_error).toMatch(/changed after it was approved/);
    expect(auditActions(db.s, id)).toEqual(['message.held', 'message.approved', 'message.send_refused']);
    expect(deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
    expect(bobInbox()).toEqual([]);
    await deliver(); // never retried
    expect((await db.s.getMessage(id))!.status).toBe('failed');
    expect(deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
  });

  it('mail the gate let through is bound too: a queued message changed before the worker claims it is refused', async () => {
    const id = await draft({ subject: 'auto' }, { mailbox: CAROL });
    expect((await db.s.getMessage(id))!.status).toBe('queued');
    sql('UPDATE messages SET to_addrs = ? WHERE message_id = ?', JSON.stringify(['spy@evil.example']), id);
    await deliver();
    expect((await db.s.getMessage(id))!).toMatchObject({ status: 'failed' });
    expect(auditActions(db.s, id)).toContain('message.send_refused');
    expect(count(db.s, 'SELECT count(*) FROM captured_mail WHERE message_id = ?', id)).toBe(0);
  });

  it('a held message marked approved by hand, with no approval recorded, is refused', async () => {
    const id = await draft();
    sql("UPDATE messages SET status = 'approved', expires_at = NULL, decided_at = ?, next_attempt_at = ? WHERE message_id = ?", T0, T0, id);
    await deliver();
    expect((await db.s.getMessage(id))!).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/no approval is recorded/) });
    expect(deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
  });

  // Regression (fixed): src/store/message-ops.ts messageHash (lines 412-421) binds kind, mailbox, to/cc/bcc, subject, bodies,
  // the email replied to and the attachments, but not from_addr, which src/mail/compose.ts (line 18, 38) uses as
  // the From header and the SMTP MAIL FROM. A sender changed after approval is delivered as if approved.
  it('the From address changed after approval is refused', async () => {
    const id = await draft();
    await approve(id);
    sql("UPDATE messages SET from_addr = 'ceo@sandbox.test' WHERE message_id = ?", id);
    await deliver();
    expect((await db.s.getMessage(id))!.status).toBe('failed');
  });
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
    expect(bobInbox()).toEqual([{ subject: 'Edited subject', text: 'edited text' }]);
    expect(auditActions(db.s, id)).toEqual(['message.held', 'message.edited', 'message.approved', 'message.sent']);
  });

  it('an untouched approval is delivered exactly once, with its attachment', async () => {
    const id = await draft({ subject: 'Untouched' });
    await approve(id);
    await deliver();
    await deliver();
    expect((await db.s.getMessage(id))!.status).toBe('sent');
    expect(deliveredCopies(db.s, id)).toEqual({ inbox: 1, sent: 1, captured: 0, sent_events: 1 });
    const copy = db.s.db.prepare("SELECT attachments FROM emails WHERE outbound_message_id = ? AND folder = 'INBOX'").pluck().get(id) as string;
    expect(JSON.parse(copy)).toEqual([{ filename: 'terms.txt', content_type: 'text/plain', size: ATTACHMENT.content.length }]);
  });
});

describe('per-thread delivery order', () => {
  /** The order of message.sent events: the audit sequence is the true order of delivery. */
  const sentOrder = () => db.s.db.prepare("SELECT message_id FROM audit_events WHERE action = 'message.sent' ORDER BY seq").pluck().all() as string[];

  it('three replies of one thread approved in reverse order go out in drafting order', async () => {
    // Ids sort against drafting order and all share one created_at, so only the thread rule can give this order.
    const ids = [
      await draft({ subject: 'first' }, { id: 'msg_zzzzzzzzzz3', thread: '<root@x>' }),
      await draft({ subject: 'second' }, { id: 'msg_yyyyyyyyyy2', thread: '<root@x>' }),
      await draft({ subject: 'third' }, { id: 'msg_xxxxxxxxxx1', thread: '<root@x>' }),
    ];
    for (const id of [...ids].reverse()) await approve(id);
    await deliver();
    expect(sentOrder()).toEqual(ids);
    expect(bobInbox().map((e) => e.subject)).toEqual(['first', 'second', 'third']);
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
    expect(sentOrder()).toEqual([b1]);
    expect((await db.s.getMessage(a2))!.status).toBe('approved');
    await db.s.recordOutcome(a1, 'other-worker', { kind: 'sent', detail: {} }, T0 + 3);
    await deliver();
    expect(sentOrder()).toEqual([b1, a1, a2]);
  });

  it('an earlier message still held does not block a later approved one of its thread', async () => {
    const held = await draft({}, { thread: '<c@x>' });
    const later = await draft({}, { thread: '<c@x>' });
    await approve(later);
    await deliver();
    expect(sentOrder()).toEqual([later]);
    expect((await db.s.getMessage(held))!.status).toBe('pending');
  });
});
