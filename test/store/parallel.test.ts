/**
 * True parallelism: worker threads, each with its own SqliteStore on the same file, released together from a
 * barrier, so BEGIN IMMEDIATE, busy_timeout and the compare-and-set guards meet real lock contention
 * (decision races, claims by many workers, audit appends). The threads are in threads.ts. SQLite-only: one
 * process's connections take turns in one queue, so only threads make them contend for the file's lock. The same
 * races between instances, on both backends: conformance/instances.test.ts and conformance/worker.test.ts.
 */
import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setLogLevel } from '../../src/log.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { ALICE, BOB, DECISION_STATUS, OUTSIDER, T0, TTL_S, addMailbox, approveMany, auditActions, content, decisionEvents, holdMany } from './fixtures.js';
import { sqliteDb } from './sqlite-fixtures.js';
import { type ThreadTask, threadRunner } from './threads.js';

let threads: ReturnType<typeof threadRunner>;
beforeAll(() => {
  setLogLevel('warn');
  threads = threadRunner();
});
afterAll(() => threads.cleanup());

let t: ReturnType<typeof sqliteDb>;
let s: SqliteStore;
beforeEach(async () => {
  t = sqliteDb();
  s = t.open();
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'gated_send');
});
afterEach(async () => {
  expect(await s.verifyAudit()).toMatchObject({ ok: true });
  await t.close();
});

/** Starts one thread per task on the test's file, releases them together, and returns each thread's output. */
const runThreads = <T>(tasks: ThreadTask[]) => threads.run<T>(t.path, tasks);

type Decided = { id: string; ok: boolean; status?: string; code?: string };
const N = 200;

describe('opening one fresh file from many threads at once', () => {
  it('every thread gets a working WAL database with one schema and no lock error', async () => {
    const fresh = t.dir.file('fresh.db');
    const outs = await runThreads<string | number>(Array.from({ length: 6 }, () => ({ task: 'open', db: fresh })));
    expect(outs).toEqual(Array.from({ length: 6 }, () => ['wal', 0]));
    const check = new SqliteStore(fresh);
    expect(check.db.prepare('SELECT value FROM meta').pluck().all()).toEqual([String(SCHEMA_VERSION)]);
    expect(check.db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get()).toBe(
      s.db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get(),
    );
    await check.close();
  });
});

describe('decisions from four threads at once', () => {
  it(`approve, approve, reject and cancel race over the same ${N} messages: exactly one wins each`, async () => {
    const ids = await holdMany(s, ALICE, N);
    const reqs = [
      { action: 'approve', actor: 'reviewer:1' },
      { action: 'approve', actor: 'reviewer:2' },
      { action: 'reject', actor: 'reviewer:3', reason: 'no' },
      { action: 'cancel', actor: 'agent:x' },
    ];
    const outs = await runThreads<Decided>(reqs.map((req) => ({ task: 'decide', ids, req, now: T0 + 1 })));
    const winners = new Map<string, string>();
    for (const out of outs) {
      expect(out.length).toBe(N);
      for (const r of out.filter((x) => x.ok)) {
        expect(winners.has(r.id), `two winners for ${r.id}`).toBe(false);
        winners.set(r.id, r.status!);
      }
    }
    expect(winners.size).toBe(N);
    for (const out of outs) {
      for (const r of out.filter((x) => !x.ok)) expect(r).toMatchObject({ code: 'NOT_PENDING', status: winners.get(r.id) });
    }
    for (const id of ids) {
      const events = await decisionEvents(s, id);
      expect(events.length).toBe(1);
      expect(DECISION_STATUS[events[0]!]).toBe(winners.get(id));
      expect((await s.getMessage(id))!.status).toBe(winners.get(id));
    }
    // Contention was real: every thread won some rows and lost others.
    for (const out of outs) expect(out.some((r) => r.ok) && out.some((r) => !r.ok)).toBe(true);
  });

  it(`approve at expires_at - 1ms vs a sweep at expires_at + 1ms, ${N} messages: one terminal decision each`, async () => {
    // Message i is held at T0 + 10i, so in round i only it is due for the sweep, and both threads race for it.
    const ids: string[] = [];
    for (let i = 0; i < N; i++) ids.push(...(await holdMany(s, ALICE, 1, T0 + 10 * i)));
    const expiries = ids.map((_, i) => T0 + 10 * i + TTL_S * 1000);
    const [approvals, expired] = (await runThreads<Decided | string>([
      { task: 'decide', ids, req: { action: 'approve', actor: 'reviewer:1' }, nows: expiries.map((e) => e - 1) },
      { task: 'expire', nows: expiries.map((e) => e + 1) },
    ])) as [Decided[], string[]];
    const expiredSet = new Set(expired);
    expect(expiredSet.size).toBe(expired.length);
    for (const r of approvals) {
      const status = (await s.getMessage(r.id))!.status;
      expect(r.ok ? 'approved' : 'expired').toBe(status);
      expect(expiredSet.has(r.id)).toBe(!r.ok);
      if (!r.ok) expect(r).toMatchObject({ code: 'NOT_PENDING', status: 'expired' });
      expect(await decisionEvents(s, r.id)).toEqual([r.ok ? 'message.approved' : 'message.expired']);
    }
    const claimed = await s.claimForDelivery('w', expiries[N - 1]! + 2, 60_000, 10_000, [ALICE, BOB]);
    expect(claimed.every((m) => !expiredSet.has(m.message_id))).toBe(true);
    expect(claimed.length + expired.length).toBe(N);
    // Both sides won some rounds: the race was real.
    expect(expired.length).toBeGreaterThan(0);
    expect(claimed.length).toBeGreaterThan(0);
  });
});

describe('delivery from two threads at once (K6)', () => {
  it(`two DeliveryWorkers send each of ${N} approved messages exactly once`, async () => {
    const ids = await approveMany(s, ALICE, N, (i) => content({ to: [BOB, OUTSIDER], subject: `p${i}` }), T0);
    const [ca, cb] = await runThreads<number>([
      { task: 'deliver', now: T0 + 5 },
      { task: 'deliver', now: T0 + 5 },
    ]);
    expect(ca![0]! + cb![0]!).toBe(N);
    for (const id of ids) {
      expect(await s.getMessage(id)).toMatchObject({ status: 'sent', attempts: 1 });
      expect(await auditActions(s, id)).toEqual(['message.held', 'message.approved', 'message.sent']);
    }
    const inbox = s.db.prepare("SELECT outbound_message_id, count(*) AS n FROM emails WHERE mailbox = ? AND folder = 'INBOX' GROUP BY 1").all(BOB) as {
      n: number;
    }[];
    expect(inbox.length).toBe(N);
    expect(inbox.every((r) => r.n === 1)).toBe(true);
    expect(s.db.prepare('SELECT count(*) FROM captured_mail').pluck().get()).toBe(N);
  });
});

describe('idempotent submits from three threads at once (K7)', () => {
  it('same keys, same content: one message per key, every other submit a replay of it', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const outs = await runThreads<{ key: string; ok: boolean; replayed?: boolean; id?: string }>(
      ['a', 'b', 'c'].map((tag) => ({ task: 'submit', keys, tag, mailbox: ALICE, subject: 'same', now: T0 })),
    );
    for (const key of keys) {
      const rs = outs.map((out) => out.find((r) => r.key === key)!);
      expect(rs.every((r) => r.ok)).toBe(true);
      expect(rs.filter((r) => !r.replayed).length).toBe(1);
      expect(new Set(rs.map((r) => r.id)).size).toBe(1);
    }
    expect(s.db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(100);
  });

  it('same keys, different content: one message per key, the others IDEMPOTENCY_CONFLICT', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `d${i}`);
    const outs = await runThreads<{ key: string; ok: boolean; code?: string }>(
      ['a', 'b', 'c'].map((tag) => ({ task: 'submit', keys, tag, mailbox: BOB, subject: `from ${tag}`, now: T0 })),
    );
    for (const key of keys) {
      const rs = outs.map((out) => out.find((r) => r.key === key)!);
      expect(rs.filter((r) => r.ok).length).toBe(1);
      expect(rs.filter((r) => !r.ok).every((r) => r.code === 'IDEMPOTENCY_CONFLICT')).toBe(true);
    }
    expect(s.db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(100);
  });
});
