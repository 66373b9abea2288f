/**
 * Personal data and the audit chain: in hashed mode the chain holds salted hashes of addresses, subjects and
 * bodies, never the values; erasing a message removes its content and copies and the chain still verifies.
 * (That the salt itself is gone, a column the Store never shows: personal-data-sqlite.test.ts.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ALICE, OPERATOR, OUTSIDER, T0, addMailbox, allEmails, auditEvents, content, eventsOf, sandboxWorker, submit, useStore } from '../fixtures.js';

const db = useStore((s) => addMailbox(s, ALICE, 'gated_send'));

const auditText = async () => (await auditEvents(db.s)).map((e) => JSON.stringify(e.detail)).join('\n');
/** Every copy delivery left of the message: INBOX and Sent emails, captured recipients. */
const copiesOf = async (id: string) => [
  ...(await allEmails(db.s)).filter((e) => e.outbound_message_id === id),
  ...(await db.s.listCaptured(1000)).filter((c) => c.message_id === id),
];
const SECRET_SUBJECT = 'Diagnosis for Jane Roe';

async function heldThenApprovedWithEdits() {
  const r = await submit(db.s, ALICE, content({ subject: SECRET_SUBJECT, text: 'Her results are attached.' }), { now: T0 + 1 });
  await db.s.decideMessage(r.message.message_id, { action: 'approve', actor: 'reviewer:test', edits: { text: 'Edited: results attached.' } }, T0 + 2);
  await sandboxWorker(db.s, () => T0 + 3).tick();
  return r.message.message_id;
}

describe('inline mode (default)', () => {
  it('keeps the values in the chain, and erase says so', async () => {
    const id = await heldThenApprovedWithEdits();
    expect(await auditText()).toContain(SECRET_SUBJECT);
    await db.s.eraseMessage(id, OPERATOR, 'request #1', T0 + 4);
    const [erased] = await eventsOf(db.s, 'message.erased');
    expect(erased!.detail).toMatchObject({ reason: 'request #1', note: expect.stringMatching(/inline mode/) });
  });
});

describe('hashed mode', () => {
  beforeEach(async () => {
    await db.s.setPersonalDataMode('hashed');
  });

  it('writes no address, subject or body into the chain, only salted hashes', async () => {
    const id = await heldThenApprovedWithEdits();
    const text = await auditText();
    for (const value of [SECRET_SUBJECT, OUTSIDER, 'Her results are attached.', 'Edited: results attached.']) expect(text).not.toContain(value);
    expect(text).toMatch(/hmac-sha256:[0-9a-f]{64}/);
    // The message row still has the content until it is erased (the reviewer and the worker need it).
    expect((await db.s.getMessage(id))!.subject).toBe(SECRET_SUBJECT);
    expect((await db.s.verifyAudit()).ok).toBe(true);
  });

  it('the same value hashes differently for two messages (no linking across messages)', async () => {
    const a = await submit(db.s, ALICE, content({ subject: 'same', text: 'one' }), { now: T0 + 1 });
    const b = await submit(db.s, ALICE, content({ subject: 'same', text: 'two' }), { now: T0 + 2 });
    const subjectOf = async (id: string) => (await auditEvents(db.s, { message_id: id })).find((e) => e.action === 'message.held')!.detail.subject;
    const [sa, sb] = [await subjectOf(a.message.message_id), await subjectOf(b.message.message_id)];
    expect(sa).toMatch(/^hmac-sha256:/);
    expect(sa).not.toBe(sb);
  });

  it('erasing removes content, copies and salt; the chain still verifies and names the erasure', async () => {
    const id = await heldThenApprovedWithEdits();
    expect((await copiesOf(id)).length).toBeGreaterThan(0);
    await db.s.eraseMessage(id, OPERATOR, 'GDPR request 42', T0 + 10);
    const m = (await db.s.getMessage(id))!;
    expect(m).toMatchObject({ status: 'sent', to: [], cc: [], bcc: [], subject: '', text: null, html: null, original_content: null });
    expect(await copiesOf(id)).toEqual([]);
    const dump = JSON.stringify(await db.s.listMessages({})) + JSON.stringify(await allEmails(db.s)) + (await auditText());
    expect(dump).not.toContain(SECRET_SUBJECT);
    expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
    expect((await eventsOf(db.s, 'message.erased')).map((e) => e.actor)).toEqual([OPERATOR]);
  });

  it('refuses to erase a message that can still change', async () => {
    const r = await submit(db.s, ALICE, content({ subject: 'still pending' }), { now: T0 + 1 });
    await expect(db.s.eraseMessage(r.message.message_id, OPERATOR, 'too early', T0 + 2)).rejects.toMatchObject({ code: 'NOT_PENDING' });
    expect((await db.s.getMessage(r.message.message_id))!.subject).toBe('still pending');
  });
});
