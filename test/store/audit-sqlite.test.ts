/**
 * The audit log under the Store, on SQLite: the append-only triggers, AUTOINCREMENT's contiguous seq, a row
 * re-serialised by hand, and an append refused by the database. These need SQL on the file itself (triggers,
 * UPDATE), so they are SQLite-only; the honest chain is checked on both backends in conformance/audit.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, T0, addMailbox, auditCount, auditHistory, content, messageCount, submit } from './fixtures.js';
import { auditRow, dropAuditTriggers, sqliteDb } from './sqlite-fixtures.js';

let t: ReturnType<typeof sqliteDb>;
beforeEach(() => {
  t = sqliteDb();
});
afterEach(async () => {
  await t.close();
});

describe('append-only', () => {
  it('refuses UPDATE and DELETE through any connection, leaving the row as it was', async () => {
    const s = t.open();
    const other = t.open();
    const n = await auditHistory(s);
    const before = auditRow(s, 3);
    for (const db of [s.db, other.db]) {
      expect(() => db.prepare("UPDATE audit_events SET detail = '{}' WHERE seq = 3").run()).toThrow(/audit_events is append-only/);
      expect(() => db.prepare('DELETE FROM audit_events WHERE seq = 3').run()).toThrow(/audit_events is append-only/);
      expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/audit_events is append-only/);
    }
    expect(auditRow(s, 3)).toEqual(before);
    expect(await auditCount(s)).toBe(n);
  });
});

describe('the chain as stored', () => {
  it('numbers events contiguously from 1 (a gap is a removed row, which verifyAudit reports)', async () => {
    const s = t.open();
    await auditHistory(s);
    const seqs = s.db.prepare('SELECT seq FROM audit_events ORDER BY seq').pluck().all() as number[];
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('a detail re-serialised with its keys in another order still verifies (canonical JSON)', async () => {
    const s = t.open();
    await auditHistory(s);
    const seq = s.db.prepare("SELECT seq FROM audit_events WHERE action = 'message.held' LIMIT 1").pluck().get() as number;
    const detail = JSON.parse(auditRow(s, seq).detail as string) as Record<string, unknown>;
    const reversed = JSON.stringify(Object.fromEntries(Object.entries(detail).reverse()));
    expect(reversed).not.toBe(auditRow(s, seq).detail);
    dropAuditTriggers(s);
    s.db.prepare('UPDATE audit_events SET detail = ? WHERE seq = ?').run(reversed, seq);
    expect((await s.verifyAudit()).ok).toBe(true);
  });
});

describe('an append the database refuses', () => {
  it('rolls back the state change with it', async () => {
    const s = t.open();
    await addMailbox(s, ALICE);
    await submit(s, ALICE, content(), { key: 'k1' });
    const id = (await submit(s, ALICE, content({ subject: 'y' }))).message.message_id;
    s.db.exec(`CREATE TEMP TRIGGER refuse_approved BEFORE INSERT ON audit_events WHEN NEW.action = 'message.approved'
               BEGIN SELECT RAISE(ABORT, 'audit disk full'); END`);
    // Every table a decision can write, counted, and every message row whole.
    const rows = () => ({
      messages: s.db.prepare('SELECT * FROM messages ORDER BY message_id').all(),
      ...Object.fromEntries(
        ['audit_events', 'emails', 'webhook_events', 'webhook_deliveries', 'correspondents', 'captured_mail'].map((table) => [
          table,
          s.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get(),
        ]),
      ),
    });
    const before = rows();
    await expect(s.decideMessage(id, { action: 'approve', actor: 'r' }, T0 + 1)).rejects.toThrow('audit disk full');
    expect(rows()).toEqual(before);
    expect(await s.getMessage(id)).toMatchObject({ status: 'pending', decided_at: null });
    expect(await messageCount(s)).toBe(2);
    expect(await auditCount(s)).toBe(3);
  });
});
