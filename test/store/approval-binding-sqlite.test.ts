/**
 * An approval binds to the exact content the reviewer saw: content changed afterwards by SQL under the Store
 * (the way any stray code path or a hand edit of the file would) is refused by the delivery worker, never sent.
 * SQLite-only because the change has to be made beneath the interface; the rest of the binding is in
 * conformance/approval-binding.test.ts, on both backends.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bindingMailboxes, drafts } from './drafts.js';
import { BOB, CAROL, NOTHING_DELIVERED, T0, auditActions, deliveredCopies } from './fixtures.js';
import { count, useSqliteStore } from './sqlite-fixtures.js';

const db = useSqliteStore(bindingMailboxes);
const { resetClock, draft, approve, deliver, bobInbox } = drafts(() => db.s);
beforeEach(resetClock);
// Registered after useSqliteStore's, so it runs before the database is closed.
afterEach(async () => {
  expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
});
const sql = (text: string, ...params: unknown[]) => db.s.db.prepare(text).run(...params);

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
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.approved', 'message.send_refused']);
    expect(await deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
    expect(await bobInbox()).toEqual([]);
    await deliver(); // never retried
    expect((await db.s.getMessage(id))!.status).toBe('failed');
    expect(await deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
  });

  it('mail the gate let through is bound too: a queued message changed before the worker claims it is refused', async () => {
    const id = await draft({ subject: 'auto' }, { mailbox: CAROL });
    expect((await db.s.getMessage(id))!.status).toBe('queued');
    sql('UPDATE messages SET to_addrs = ? WHERE message_id = ?', JSON.stringify(['spy@evil.example']), id);
    await deliver();
    expect((await db.s.getMessage(id))!).toMatchObject({ status: 'failed' });
    expect(await auditActions(db.s, id)).toContain('message.send_refused');
    expect(count(db.s, 'SELECT count(*) FROM captured_mail WHERE message_id = ?', id)).toBe(0);
  });

  it('a held message marked approved by hand, with no approval recorded, is refused', async () => {
    const id = await draft();
    sql("UPDATE messages SET status = 'approved', expires_at = NULL, decided_at = ?, next_attempt_at = ? WHERE message_id = ?", T0, T0, id);
    await deliver();
    expect((await db.s.getMessage(id))!).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/no approval is recorded/) });
    expect(await deliveredCopies(db.s, id)).toEqual(NOTHING_DELIVERED);
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
