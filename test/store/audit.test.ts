/** The audit log: append-only by trigger and hash-chained; an honest history verifies. Tampering: tamper.test.ts. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, T0, addMailbox, auditCount, auditHistory, auditRow, content, dropAuditTriggers, submit, testDb } from './fixtures.js';

let t: ReturnType<typeof testDb>;
beforeEach(() => {
  t = testDb();
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
    expect(auditCount(s)).toBe(n);
  });
});

describe('verifyAudit on an honest history', () => {
  it('is ok and counts every event', async () => {
    const s = t.open();
    const n = await auditHistory(s);
    expect(n).toBe(20);
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: 20 });
  });

  it('links each event to the one before, from a zero genesis hash, with contiguous seq', async () => {
    const s = t.open();
    await auditHistory(s);
    const rows = s.db.prepare('SELECT seq, prev_hash, hash FROM audit_events ORDER BY seq').all() as { seq: number; prev_hash: string; hash: string }[];
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    rows.forEach((r, i) => {
      expect(r.seq).toBe(i + 1);
      if (i > 0) expect(r.prev_hash).toBe(rows[i - 1]!.hash);
    });
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
  });

  it('writers on two connections, interleaved, build one linear chain', async () => {
    const a = t.open();
    const b = t.open();
    await addMailbox(a, ALICE);
    await addMailbox(b, BOB);
    for (let i = 0; i < 30; i++) await submit(i % 2 ? a : b, i % 3 ? ALICE : BOB, content({ subject: `n${i}` }), { now: T0 + i });
    expect(await a.verifyAudit()).toMatchObject({ ok: true, events: 32 });
    expect(await b.verifyAudit()).toMatchObject({ ok: true, events: 32 });
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

  it('an event whose detail carries a Date still verifies (values are hashed as they are stored)', async () => {
    // recordOutcome passes the transport's receipt detail straight into the audit event.
    const s = t.open();
    await addMailbox(s, ALICE, 'autonomous');
    const { message } = await submit(s, ALICE);
    const [claimed] = await s.claimForDelivery('w1', T0 + 1, 60_000, 10, [ALICE]);
    expect(claimed?.message_id).toBe(message.message_id);
    await s.recordOutcome(message.message_id, 'w1', { kind: 'sent', detail: { accepted_at: new Date(T0) } }, T0 + 2);
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: 3 });
  });
});
