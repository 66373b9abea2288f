/**
 * The audit log is hash-chained and an honest history verifies, on either backend. What only SQL can show (the
 * append-only triggers, SQLite's contiguous seq, re-serialised rows): audit-sqlite.test.ts. Tampering:
 * tamper.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALICE, BOB, T0, type TestDb, addMailbox, auditEvents, auditHistory, content, submit, testDb } from '../fixtures.js';

let t: TestDb;
beforeEach(() => {
  t = testDb();
});
afterEach(async () => {
  await t.close();
});

describe('verifyAudit on an honest history', () => {
  it('is ok and counts every event', async () => {
    const s = t.open();
    const n = await auditHistory(s);
    expect(n).toBe(20);
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: 20 });
  });

  it('links each event to the one before, from a zero genesis hash, in increasing seq', async () => {
    const s = t.open();
    await auditHistory(s);
    const rows = await auditEvents(s);
    expect(rows.length).toBe(20);
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    rows.forEach((r, i) => {
      if (i > 0) {
        // Increasing, not contiguous: a PostgreSQL sequence may skip numbers (SQLite's do not: audit-sqlite.test.ts).
        expect(r.seq).toBeGreaterThan(rows[i - 1]!.seq);
        expect(r.prev_hash).toBe(rows[i - 1]!.hash);
      }
    });
    expect(new Set(rows.map((r) => r.hash)).size).toBe(rows.length);
    expect(await s.verifyAudit()).toMatchObject({ ok: true, head: { seq: rows.at(-1)!.seq, hash: rows.at(-1)!.hash } });
  });

  it('writers on two instances, interleaved, build one linear chain', async () => {
    const a = t.open();
    const b = t.open();
    await addMailbox(a, ALICE);
    await addMailbox(b, BOB);
    for (let i = 0; i < 30; i++) await submit(i % 2 ? a : b, i % 3 ? ALICE : BOB, content({ subject: `n${i}` }), { now: T0 + i });
    expect(await a.verifyAudit()).toMatchObject({ ok: true, events: 32 });
    expect(await b.verifyAudit()).toMatchObject({ ok: true, events: 32 });
  });

  it('writers on two instances at the same moment still build one chain', async () => {
    // Concurrent appends each read the head and link to it: without serialising them the chain would fork.
    const a = t.open();
    const b = t.open();
    await addMailbox(a, ALICE);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => submit(i % 2 ? a : b, ALICE, content({ subject: `c${i}` }), { now: T0 + i, policy: { dedupe_window: 0 } })),
    );
    expect(await a.verifyAudit()).toMatchObject({ ok: true, events: 41 });
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
