/** The audit log: append-only by trigger, hash-chained, and verifyAudit names the first row that was tampered with. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite-store.js';
import { ALICE, BOB, OPERATOR, T0, addMailbox, auditCount, content, submit, testDb } from './fixtures.js';

let t: ReturnType<typeof testDb>;
beforeEach(() => { t = testDb(); });
afterEach(async () => { await t.close(); });

/** A normal history: mailboxes, held sends, approve / reject / cancel, an expiry and a mode change. */
async function history(s: SqliteStore): Promise<number> {
  await addMailbox(s, ALICE);
  await addMailbox(s, BOB, 'autonomous');
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await submit(s, ALICE, content({ subject: `s${i}` }), { now: T0 + i })).message.message_id);
  await submit(s, BOB, content(), { now: T0 + 5 });
  await s.decideMessage(ids[0]!, { action: 'approve', actor: 'reviewer:r', edits: { subject: 'edited' } }, T0 + 10);
  await s.decideMessage(ids[1]!, { action: 'reject', actor: 'reviewer:r', reason: 'no' }, T0 + 11);
  await s.decideMessage(ids[2]!, { action: 'cancel', actor: 'agent:a' }, T0 + 12);
  await s.expireDue(T0 + 3600_000 + 3, 10);
  await s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'trusted now', T0 + 20);
  return auditCount(s);
}

const row = (s: SqliteStore, seq: number) => s.db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as Record<string, unknown>;

function dropTriggers(s: SqliteStore) {
  s.db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
}

describe('append-only', () => {
  it('refuses UPDATE and DELETE through any connection, leaving the row as it was', async () => {
    const s = t.open();
    const other = t.open();
    const n = await history(s);
    const before = row(s, 3);
    for (const db of [s.db, other.db]) {
      expect(() => db.prepare("UPDATE audit_events SET detail = '{}' WHERE seq = 3").run()).toThrow(/audit_events is append-only/);
      expect(() => db.prepare('DELETE FROM audit_events WHERE seq = 3').run()).toThrow(/audit_events is append-only/);
      expect(() => db.prepare('DELETE FROM audit_events').run()).toThrow(/audit_events is append-only/);
    }
    expect(row(s, 3)).toEqual(before);
    expect(auditCount(s)).toBe(n);
  });
});

describe('verifyAudit on an honest history', () => {
  it('is ok and counts every event', async () => {
    const s = t.open();
    const n = await history(s);
    expect(n).toBe(13);
    expect(await s.verifyAudit()).toEqual({ ok: true, events: 13 });
  });

  it('links each event to the one before, from a zero genesis hash, with contiguous seq', async () => {
    const s = t.open();
    await history(s);
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
    expect(await a.verifyAudit()).toEqual({ ok: true, events: 32 });
    expect(await b.verifyAudit()).toEqual({ ok: true, events: 32 });
  });

  it('a detail re-serialised with its keys in another order still verifies (canonical JSON)', async () => {
    const s = t.open();
    await history(s);
    const seq = s.db.prepare("SELECT seq FROM audit_events WHERE action = 'message.held' LIMIT 1").pluck().get() as number;
    const detail = JSON.parse(row(s, seq).detail as string) as Record<string, unknown>;
    const reversed = JSON.stringify(Object.fromEntries(Object.entries(detail).reverse()));
    expect(reversed).not.toBe(row(s, seq).detail);
    dropTriggers(s);
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
    expect(await s.verifyAudit()).toEqual({ ok: true, events: 3 });
  });
});

describe('tampering is detected at the tampered seq', () => {
  it('an edited detail', async () => {
    const s = t.open();
    await history(s);
    const seq = s.db.prepare("SELECT seq FROM audit_events WHERE action = 'message.approved'").pluck().get() as number;
    dropTriggers(s);
    const detail = JSON.parse(row(s, seq).detail as string) as Record<string, unknown>;
    s.db.prepare('UPDATE audit_events SET detail = ? WHERE seq = ?').run(JSON.stringify({ ...detail, reason: 'looked fine' }), seq);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: seq, problem: expect.stringMatching(/edited/) });
  });

  it('an edited actor, action or time', async () => {
    for (const [col, value] of [['actor', 'reviewer:someone-else'], ['action', 'message.rejected'], ['at', T0 + 999]] as const) {
      const local = testDb();
      const s = local.open();
      await history(s);
      const seq = s.db.prepare("SELECT seq FROM audit_events WHERE action = 'message.approved'").pluck().get() as number;
      dropTriggers(s);
      s.db.prepare(`UPDATE audit_events SET ${col} = ? WHERE seq = ?`).run(value, seq);
      expect(await s.verifyAudit(), col).toMatchObject({ ok: false, first_bad_seq: seq });
      await local.close();
    }
  });

  it('a deleted middle row: the break is reported at the first row after the gap', async () => {
    const s = t.open();
    const n = await history(s);
    const seq = 6;
    dropTriggers(s);
    s.db.prepare('DELETE FROM audit_events WHERE seq = ?').run(seq);
    expect(auditCount(s)).toBe(n - 1);
    expect(await s.verifyAudit()).toMatchObject({
      ok: false, first_bad_seq: seq + 1, events: seq, problem: expect.stringMatching(/removed or reordered/),
    });
  });

  it('two rows with their contents swapped', async () => {
    const s = t.open();
    await history(s);
    const [a, b] = [4, 9];
    const cols = ['event_id', 'at', 'actor', 'action', 'mailbox', 'message_id', 'email_id', 'detail', 'prev_hash', 'hash'];
    const ra = row(s, a);
    const rb = row(s, b);
    dropTriggers(s);
    // event_id is UNIQUE: park one row's id while swapping.
    s.db.prepare("UPDATE audit_events SET event_id = 'evt_parked' WHERE seq = ?").run(a);
    const set = cols.map((c) => `${c} = @${c}`).join(', ');
    s.db.prepare(`UPDATE audit_events SET ${set} WHERE seq = ${b}`).run(ra);
    s.db.prepare(`UPDATE audit_events SET ${set} WHERE seq = ${a}`).run(rb);
    expect(row(s, a).hash).toBe(rb.hash);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: a });
  });

  it('a rewritten row with a recomputed own hash still breaks the next link', async () => {
    const s = t.open();
    await history(s);
    const { eventHash } = await import('../../src/store/audit.js');
    const seq = 5;
    const r = row(s, seq);
    const forged = { ...r, actor: 'reviewer:forger', detail: JSON.parse(r.detail as string) as Record<string, unknown> };
    const hash = eventHash(r.prev_hash as string, forged as never);
    dropTriggers(s);
    s.db.prepare('UPDATE audit_events SET actor = ?, hash = ? WHERE seq = ?').run('reviewer:forger', hash, seq);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: seq + 1 });
  });

  it('cannot detect removal of the newest events without an external anchor (reliability.md A4, residual risk)', async () => {
    const s = t.open();
    const n = await history(s);
    dropTriggers(s);
    s.db.prepare('DELETE FROM audit_events WHERE seq > ?').run(n - 2);
    expect(await s.verifyAudit()).toEqual({ ok: true, events: n - 2 });
  });
});
