/**
 * Erasure on SQLite, checked in the file itself: the message's salt (a column the Store never shows) is gone,
 * and no column of any row still holds the erased subject. SQLite-only because it reads beneath the interface;
 * what the Store shows of an erasure is checked on both backends in conformance/personal-data.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ALICE, OPERATOR, T0, addMailbox, content, sandboxWorker, submit } from './fixtures.js';
import { count, useSqliteStore } from './sqlite-fixtures.js';

const db = useSqliteStore((s) => addMailbox(s, ALICE, 'gated_send'));
const SECRET_SUBJECT = 'Diagnosis for Jane Roe';

describe('erasing in hashed mode', () => {
  it('clears the salt and leaves the subject in no column of messages, emails, captured mail or audit', async () => {
    await db.s.setPersonalDataMode('hashed');
    const r = await submit(db.s, ALICE, content({ subject: SECRET_SUBJECT, text: 'Her results are attached.' }), { now: T0 + 1 });
    const id = r.message.message_id;
    await db.s.decideMessage(id, { action: 'approve', actor: 'reviewer:test' }, T0 + 2);
    await sandboxWorker(db.s, () => T0 + 3).tick();
    expect(db.s.db.prepare('SELECT pii_salt FROM messages WHERE message_id = ?').pluck().get(id)).not.toBeNull();
    expect(count(db.s, 'SELECT count(*) FROM emails WHERE outbound_message_id = ?', id)).toBeGreaterThan(0);
    await db.s.eraseMessage(id, OPERATOR, 'GDPR request 42', T0 + 10);
    expect(db.s.db.prepare('SELECT pii_salt FROM messages WHERE message_id = ?').pluck().get(id)).toBeNull();
    const dump = ['messages', 'emails', 'captured_mail', 'audit_events']
      .map((table) => JSON.stringify(db.s.db.prepare(`SELECT * FROM ${table}`).all()))
      .join('\n');
    expect(dump).not.toContain(SECRET_SUBJECT);
    expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
  });
});
