/**
 * Tampering with the audit log (issue 4 Acceptance): with the append-only triggers dropped, as
 * anyone who can write the file can do, every edit, removal or reordering of a row makes verifyAudit fail at that
 * event, and `mailgate audit verify` exits non-zero naming it. What the chain alone cannot prove (the tail cut off,
 * a suffix rewritten with fresh hashes) is pinned down here too. The history is the 20 real events of
 * fixtures.ts auditHistory; the honest chain and the triggers themselves are in audit.test.ts.
 */
import { copyFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventHash } from '../../src/store/audit.js';
import type { SqliteStore } from '../../src/domain/sqlite-store.js';
import { assertBuilt, runCli } from '../e2e/harness.js';
import { auditCount, auditHistory } from './fixtures.js';
import { auditRow, dropAuditTriggers, sqliteDb } from './sqlite-fixtures.js';

type Row = Record<string, unknown> & { seq: number; prev_hash: string; hash: string; detail: string };
const EDITED = /content does not match its hash/;
const RELINKED = /prev_hash does not link/;

// One honest history, built once and copied for every case.
const template = sqliteDb();
let N = 0;
beforeAll(async () => {
  const s = template.open();
  N = await auditHistory(s);
  s.db.pragma('wal_checkpoint(TRUNCATE)');
});
afterAll(async () => {
  await template.close();
});

let t: ReturnType<typeof sqliteDb>;
/** A copy of the history with the triggers dropped, ready to tamper with. */
function tamperable(): SqliteStore {
  t = sqliteDb();
  copyFileSync(template.path, t.path);
  const s = t.open();
  dropAuditTriggers(s);
  return s;
}
afterEach(async () => {
  await t?.close();
});

const rowAt = (s: SqliteStore, seq: number) => auditRow(s, seq) as Row;
const seqOf = (s: SqliteStore, action: string) =>
  s.db.prepare('SELECT seq FROM audit_events WHERE action = ? ORDER BY seq LIMIT 1').pluck().get(action) as number;
const set = (s: SqliteStore, seq: number, column: string, value: unknown) =>
  s.db.prepare(`UPDATE audit_events SET ${column} = ? WHERE seq = ?`).run(value, seq);

describe('an edited row fails verification at exactly that seq', () => {
  /** For each stored column, a different value for the row; every one of them is covered by the hash or the link. */
  const edits: [string, (r: Row) => unknown, RegExp][] = [
    ['event_id', () => 'evt_forged00000000000000', EDITED],
    ['at', (r) => (r.at as number) + 1, EDITED],
    ['actor', () => 'reviewer:forger', EDITED],
    ['action', (r) => (r.action === 'message.rejected' ? 'message.approved' : 'message.rejected'), EDITED],
    ['mailbox', (r) => (r.mailbox === null ? 'mallory@sandbox.test' : null), EDITED],
    ['message_id', (r) => (r.message_id === null ? 'msg_forged00000000000000' : null), EDITED],
    ['email_id', (r) => (r.email_id === null ? 'em_forged000000000000000' : null), EDITED],
    ['detail', (r) => JSON.stringify({ ...(JSON.parse(r.detail) as object), reason: 'looked fine' }), EDITED],
    ['hash', () => 'f'.repeat(64), EDITED],
    ['prev_hash', (r) => (r.prev_hash === '0'.repeat(64) ? 'f' : '0').repeat(64), RELINKED],
  ];
  for (const [column, value, problem] of edits) {
    it(`${column}, in the first, a middle (the approval) and the last event`, async () => {
      for (const where of ['first', 'middle', 'last'] as const) {
        const s = tamperable();
        const seq = where === 'first' ? 1 : where === 'last' ? N : seqOf(s, 'message.approved');
        set(s, seq, column, value(rowAt(s, seq)));
        expect(await s.verifyAudit(), `${column} at ${where}`).toEqual({ ok: false, events: seq, first_bad_seq: seq, problem: expect.stringMatching(problem) });
        await t.close();
      }
    });
  }

  it('in the detail, a value that only changes type, or an added key that is null', async () => {
    for (const change of [(d: Record<string, unknown>) => ({ ...d, attempt: String(d.attempt) }), (d: Record<string, unknown>) => ({ ...d, note: null })]) {
      const s = tamperable();
      const seq = seqOf(s, 'message.sent');
      set(s, seq, 'detail', JSON.stringify(change(JSON.parse(rowAt(s, seq).detail) as Record<string, unknown>)));
      expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: seq, problem: expect.stringMatching(EDITED) });
      await t.close();
    }
  });

  // JSON.parse keeps the last of two equal keys, SQLite's json_extract (and other readers) the first, so a key
  // inserted before the real one would change what they read: verify requires the stored text to be exactly the
  // JSON that was written.
  it('in the detail, a duplicate key placed before the real one (what json_extract reads)', async () => {
    const s = tamperable();
    const seq = seqOf(s, 'message.rejected');
    const stored = rowAt(s, seq).detail;
    set(s, seq, 'detail', stored.replace('{', '{"reason":"approved after all",'));
    expect(s.db.prepare("SELECT json_extract(detail, '$.reason') FROM audit_events WHERE seq = ?").pluck().get(seq)).toBe('approved after all');
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: seq, problem: expect.stringMatching(/duplicated key/) });
  });

  it('a row rewritten with its own hash recomputed still breaks the link of the next one', async () => {
    const s = tamperable();
    const seq = seqOf(s, 'message.approved');
    const r = rowAt(s, seq);
    const forged = { ...r, actor: 'reviewer:forger', detail: JSON.parse(r.detail) as Record<string, unknown> };
    s.db.prepare('UPDATE audit_events SET actor = ?, hash = ? WHERE seq = ?').run('reviewer:forger', eventHash(r.prev_hash, forged as never), seq);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: seq + 1, problem: expect.stringMatching(RELINKED) });
  });
});

describe('a removed row fails verification at the event after it', () => {
  for (const [what, seqs] of [
    ['the first row', [1]],
    ['a middle row', [9]],
    ['three middle rows', [9, 10, 11]],
  ] as const) {
    it(what, async () => {
      const s = tamperable();
      for (const seq of seqs) s.db.prepare('DELETE FROM audit_events WHERE seq = ?').run(seq);
      const next = seqs[seqs.length - 1]! + 1;
      expect(await auditCount(s)).toBe(N - seqs.length);
      // The first row has nothing before it, so the hash link names the row after; otherwise the gap names the first removed seq.
      const want =
        seqs[0] === 1
          ? { ok: false, events: next - seqs.length, first_bad_seq: next, problem: expect.stringMatching(RELINKED) }
          : { ok: false, events: next - seqs.length, first_bad_seq: seqs[0], problem: expect.stringMatching(/removed/) };
      expect(await s.verifyAudit()).toEqual(want);
    });
  }
});

describe('reordered rows fail verification at the first one out of place', () => {
  it('two rows with their contents swapped', async () => {
    const s = tamperable();
    const [a, b] = [4, 9];
    const cols = ['event_id', 'at', 'actor', 'action', 'mailbox', 'message_id', 'email_id', 'detail', 'prev_hash', 'hash'];
    const ra = rowAt(s, a);
    const rb = rowAt(s, b);
    // event_id is UNIQUE: park one row's id while swapping.
    set(s, a, 'event_id', 'evt_parked');
    const assign = cols.map((c) => `${c} = @${c}`).join(', ');
    s.db.prepare(`UPDATE audit_events SET ${assign} WHERE seq = ${b}`).run(ra);
    s.db.prepare(`UPDATE audit_events SET ${assign} WHERE seq = ${a}`).run(rb);
    expect(rowAt(s, a).hash).toBe(rb.hash);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: a });
  });

  it("two rows renumbered into each other's place (their contents untouched)", async () => {
    const s = tamperable();
    const [a, b] = [9, 10];
    const [ra, rb] = [rowAt(s, a), rowAt(s, b)];
    set(s, a, 'seq', -1);
    set(s, b, 'seq', a);
    set(s, -1, 'seq', b);
    expect(rowAt(s, a).hash).toBe(rb.hash);
    expect(rowAt(s, b).hash).toBe(ra.hash);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: a, problem: expect.stringMatching(RELINKED) });
  });

  it('the newest event moved to the front', async () => {
    const s = tamperable();
    set(s, N, 'seq', 0);
    expect(await s.verifyAudit()).toEqual({ ok: false, events: 1, first_bad_seq: 0, problem: expect.stringMatching(RELINKED) });
  });
});

describe('what the chain alone cannot prove (no head hash is recorded anywhere: a residual risk)', () => {
  it('a naive cut of the newest events fails at the first removed seq (AUTOINCREMENT remembers the old end)', async () => {
    const s = tamperable();
    s.db.prepare('DELETE FROM audit_events WHERE seq > ?').run(N - 2);
    expect(s.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit_events'").pluck().get()).toBe(N);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: N - 1, problem: expect.stringMatching(/removed/) });
    // New events do not hide the cut: the numbers skip the removed ones.
    await s.recordRead((await s.listEmails({ mailbox: 'bob@sandbox.test', folder: 'INBOX', unread_only: false, limit: 1 }))[0]!, 'agent:bob', 1);
    expect(s.db.prepare('SELECT seq FROM audit_events ORDER BY seq DESC LIMIT 2').pluck().all()).toEqual([N + 1, N - 2]);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: N - 1, problem: expect.stringMatching(/removed/) });
  });

  it('deleting the newest event makes verify fail', async () => {
    const s = tamperable();
    s.db.prepare('DELETE FROM audit_events WHERE seq = ?').run(N);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: N });
  });

  it('a cut that also resets the counter is caught by an anchor: the head hash recorded before', async () => {
    const s = tamperable();
    const before = await s.verifyAudit();
    if (!before.ok || !before.head) throw new Error('expected a healthy chain with a head');
    expect(before.head).toEqual({ seq: N, hash: rowAt(s, N).hash });
    expect(await s.verifyAudit(before.head.hash)).toMatchObject({ ok: true });
    s.db.prepare('DELETE FROM audit_events WHERE seq > ?').run(N - 3);
    s.db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_events'").run(N - 3);
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: N - 3 });
    expect(await s.verifyAudit(before.head.hash)).toMatchObject({ ok: false, problem: expect.stringMatching(/anchored hash/) });
  });

  it('a suffix rewritten with every hash recomputed verifies: anyone who can write the file and run the hash can forge it', async () => {
    const s = tamperable();
    const from = seqOf(s, 'message.approved');
    let prev = rowAt(s, from).prev_hash;
    for (let seq = from; seq <= N; seq++) {
      const r = rowAt(s, seq);
      const actor = seq === from ? 'reviewer:forger' : r.actor;
      const hash = eventHash(prev, { ...r, actor, detail: JSON.parse(r.detail) } as never);
      s.db.prepare('UPDATE audit_events SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(actor, prev, hash, seq);
      prev = hash;
    }
    expect(await s.verifyAudit()).toMatchObject({ ok: true, events: N });
  });
});

describe('the triggers', () => {
  it('are back as soon as mailgate opens the file again, and tampering done meanwhile is still caught', async () => {
    const s = tamperable();
    set(s, 5, 'actor', 'reviewer:forger');
    const reopened = t.open();
    expect(() => reopened.db.prepare("UPDATE audit_events SET actor = 'x' WHERE seq = 6").run()).toThrow(/append-only/);
    expect(() => reopened.db.prepare('DELETE FROM audit_events WHERE seq = 6').run()).toThrow(/append-only/);
    expect(await reopened.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: 5 });
  });
});

describe('the command line on a tampered file', () => {
  beforeAll(() => assertBuilt());
  const cli = (...args: string[]) => runCli([...args, '--db', t.path], { home: t.dir.path });

  it('audit verify exits 1 and names the edited event; --json gives its seq', async () => {
    const s = tamperable();
    const seq = seqOf(s, 'message.approved');
    set(s, seq, 'detail', '{"reason":"looked fine"}');
    await s.close();
    const text = await cli('audit', 'verify');
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toContain(`audit chain BROKEN at event seq ${seq}: content does not match its hash`);
    const json = await cli('audit', 'verify', '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, first_bad_seq: seq });
  });

  it('audit verify names a removed event, and audit export leads with the broken chain and exits 1', async () => {
    const s = tamperable();
    s.db.prepare('DELETE FROM audit_events WHERE seq = 9').run();
    await s.close();
    const verify = await cli('audit', 'verify');
    expect(verify.code).toBe(1);
    expect(verify.stdout).toMatch(/BROKEN at event seq 9: event 9 was removed/);
    const exported = await cli('audit', 'export');
    expect(exported.code, exported.stderr).toBe(1);
    expect(JSON.parse(exported.stdout.split('\n')[0]!)).toMatchObject({ type: 'chain', ok: false, first_bad_seq: 9 });
  });
});
