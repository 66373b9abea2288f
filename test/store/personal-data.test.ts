/**
 * Personal data and the audit chain: in hashed mode the chain holds salted hashes of addresses, subjects and
 * bodies, never the values; erasing a message removes its content and salt and the chain still verifies.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { ALICE, OPERATOR, OUTSIDER, T0, addMailbox, content, count, sandboxWorker, submit, useStore } from './fixtures.js';

const db = useStore((s) => addMailbox(s, ALICE, 'gated_send'));

const auditText = () => (db.s.db.prepare('SELECT detail FROM audit_events').pluck().all() as string[]).join('\n');
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
    expect(auditText()).toContain(SECRET_SUBJECT);
    await db.s.eraseMessage(id, OPERATOR, 'request #1', T0 + 4);
    const erased = db.s.db.prepare("SELECT detail FROM audit_events WHERE action = 'message.erased'").pluck().get() as string;
    expect(JSON.parse(erased)).toMatchObject({ reason: 'request #1', note: expect.stringMatching(/inline mode/) });
  });
});

describe('hashed mode', () => {
  beforeEach(async () => {
    await db.s.setPersonalDataMode('hashed');
  });

  it('writes no address, subject or body into the chain, only salted hashes', async () => {
    const id = await heldThenApprovedWithEdits();
    const text = auditText();
    for (const value of [SECRET_SUBJECT, OUTSIDER, 'Her results are attached.', 'Edited: results attached.']) expect(text).not.toContain(value);
    expect(text).toMatch(/hmac-sha256:[0-9a-f]{64}/);
    // The message row still has the content until it is erased (the reviewer and the worker need it).
    expect((await db.s.getMessage(id))!.subject).toBe(SECRET_SUBJECT);
    expect((await db.s.verifyAudit()).ok).toBe(true);
  });

  it('the same value hashes differently for two messages (no linking across messages)', async () => {
    const a = await submit(db.s, ALICE, content({ subject: 'same', text: 'one' }), { now: T0 + 1 });
    const b = await submit(db.s, ALICE, content({ subject: 'same', text: 'two' }), { now: T0 + 2 });
    const subjectOf = (id: string) =>
      JSON.parse(db.s.db.prepare("SELECT detail FROM audit_events WHERE message_id = ? AND action = 'message.held'").pluck().get(id) as string).subject;
    expect(subjectOf(a.message.message_id)).not.toBe(subjectOf(b.message.message_id));
  });

  it('erasing removes content, copies and salt; the chain still verifies and names the erasure', async () => {
    const id = await heldThenApprovedWithEdits();
    expect(count(db.s, 'SELECT count(*) FROM emails WHERE outbound_message_id = ?', id)).toBeGreaterThan(0);
    await db.s.eraseMessage(id, OPERATOR, 'GDPR request 42', T0 + 10);
    const m = (await db.s.getMessage(id))!;
    expect(m).toMatchObject({ status: 'sent', to: [], cc: [], bcc: [], subject: '', text: null, html: null, original_content: null });
    expect(count(db.s, 'SELECT count(*) FROM emails WHERE outbound_message_id = ?', id)).toBe(0);
    expect(count(db.s, 'SELECT count(*) FROM captured_mail WHERE message_id = ?', id)).toBe(0);
    expect(db.s.db.prepare('SELECT pii_salt FROM messages WHERE message_id = ?').pluck().get(id)).toBeNull();
    const dump = (db.s.db.prepare('SELECT * FROM messages').all() as object[]).map((r) => JSON.stringify(r)).join('\n') + auditText();
    expect(dump).not.toContain(SECRET_SUBJECT);
    expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
    expect(db.s.db.prepare("SELECT actor FROM audit_events WHERE action = 'message.erased'").pluck().get()).toBe(OPERATOR);
  });

  it('refuses to erase a message that can still change', async () => {
    const r = await submit(db.s, ALICE, content({ subject: 'still pending' }), { now: T0 + 1 });
    await expect(db.s.eraseMessage(r.message.message_id, OPERATOR, 'too early', T0 + 2)).rejects.toMatchObject({ code: 'NOT_PENDING' });
    expect((await db.s.getMessage(r.message.message_id))!.subject).toBe('still pending');
  });
});
