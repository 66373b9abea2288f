/**
 * True parallelism: worker threads, each with its own SqliteStore on the same file, released together from a
 * barrier, so BEGIN IMMEDIATE, busy_timeout and the compare-and-set guards meet real lock contention
 * (reliability.md §1.4 K1, K2, K3, K6, K7, A10). The threads run src/ transpiled to plain JS by fixtures.ts.
 */
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, afterAll, beforeEach, describe, expect, it } from 'vitest';
import { setLogLevel } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';
import {
  ALICE, BOB, DECISION_STATUS, OUTSIDER, T0, TTL_S, addMailbox, approveMany, auditActions, content, decisionEvents, holdMany, testDb, transpileSrc,
} from './fixtures.js';

const THREAD = String.raw`
const { workerData: w, parentPort } = require('node:worker_threads');
(async () => {
  const { SqliteStore } = await import(w.src + 'store/sqlite-store.js');
  const { DeliveryWorker } = await import(w.src + 'services/deliver.js');
  const { sandboxTransport } = await import(w.src + 'mail/sandbox.js');
  const { evaluate } = await import(w.src + 'gate/evaluate.js');
  const { setLogLevel } = await import(w.src + 'log.js');
  setLogLevel('warn');
  const open = () => new SqliteStore(w.db, { busyTimeoutMs: 30000 });
  const store = w.task === 'open' ? null : open();
  const flags = new Int32Array(w.sab);
  Atomics.add(flags, 0, 1);
  Atomics.wait(flags, 1, 0);
  const out = [];
  if (w.task === 'open') {
    const fresh = open();
    out.push(fresh.db.pragma('journal_mode', { simple: true }), (await fresh.listMailboxes()).length);
    await fresh.close();
  }
  const fail = (e) => ({ ok: false, code: e.code ?? String(e), status: e.details && e.details.status });
  // Lockstep: every thread attempts row i at the same moment, so each row is a real race. (Without it, the thread
  // that first gets the lock stays ahead and the others only ever find rows already decided.)
  const bar = new Int32Array(w.bar);
  const sync = () => {
    const gen = Atomics.load(bar, 1);
    if (Atomics.add(bar, 0, 1) === w.n - 1) { Atomics.store(bar, 0, 0); Atomics.add(bar, 1, 1); Atomics.notify(bar, 1); }
    else Atomics.wait(bar, 1, gen);
  };
  if (w.task === 'decide') {
    for (const [i, id] of w.ids.entries()) {
      sync();
      const now = w.nows ? w.nows[i] : w.now;
      try { out.push({ id, ok: true, status: (await store.decideMessage(id, w.req, now)).status }); } catch (e) { out.push({ id, ...fail(e) }); }
    }
  } else if (w.task === 'expire') {
    for (const now of w.nows) {
      sync();
      out.push(...(await store.expireDue(now, 10)).map((m) => m.message_id));
    }
  } else if (w.task === 'deliver') {
    const clock = () => w.now;
    const transport = sandboxTransport(store, clock);
    const worker = new DeliveryWorker(store, { canServe: () => true, forMailbox: () => transport, close: async () => {} }, clock);
    const claim = store.claimForDelivery.bind(store);
    let claimed = 0;
    store.claimForDelivery = async (...a) => { const r = await claim(...a); claimed += r.length; return r; };
    await worker.tick();
    out.push(claimed);
  } else if (w.task === 'submit') {
    for (const [i, key] of w.keys.entries()) {
      sync();
      const c = { to: ['someone@external.example'], cc: [], bcc: [], subject: w.subject + ' ' + i, text: 'x', html: null };
      const action = { kind: 'send', recipients: c.to, subject: c.subject, isReply: false };
      const gate = (mb, facts) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules }, { requireApproval: false }, action, facts);
      const req = { message_id: 'msg_' + w.tag + '_' + i, message_id_header: '<' + w.tag + '.' + i + '@sandbox.test>', mailbox: w.mailbox,
        kind: 'send', content: c, idempotency_key: key, actor: 'agent:' + w.tag };
      try { const r = await store.submitMessage(req, gate, w.now); out.push({ key, ok: true, replayed: r.replayed, id: r.message.message_id }); }
      catch (e) { out.push({ key, ...fail(e) }); }
    }
  }
  if (store) await store.close();
  parentPort.postMessage({ out });
})().catch((e) => parentPort.postMessage({ fatal: String((e && e.stack) || e) }));
`;

let build: ReturnType<typeof tempDir>;
let src: string;
beforeAll(() => {
  setLogLevel('warn');
  build = tempDir('mailgate-build-');
  src = transpileSrc(build.path);
});
afterAll(() => build.cleanup());

let t: ReturnType<typeof testDb>;
let s: SqliteStore;
beforeEach(async () => {
  t = testDb();
  s = t.open();
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'gated_send');
});
afterEach(async () => {
  expect(await s.verifyAudit()).toMatchObject({ ok: true });
  await t.close();
});

/** Starts one thread per task, releases them together, and returns each thread's output. */
async function runThreads<T>(tasks: Record<string, unknown>[]): Promise<T[][]> {
  const sab = new SharedArrayBuffer(8);
  const bar = new SharedArrayBuffer(8);
  const flags = new Int32Array(sab);
  const workers: Worker[] = [];
  const results = tasks.map((task) => new Promise<T[]>((resolve, reject) => {
    const w = new Worker(THREAD, { eval: true, workerData: { src, db: t.path, ...task, sab, bar, n: tasks.length } });
    workers.push(w);
    w.once('message', (m: { out?: T[]; fatal?: string }) => (m.fatal ? reject(new Error(m.fatal)) : resolve(m.out!)));
    w.once('error', reject);
  }));
  try {
    while (Atomics.load(flags, 0) < tasks.length) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    return await Promise.all(results);
  } finally {
    // A thread that failed leaves the others waiting at the barrier; never leave them behind.
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

type Decided = { id: string; ok: boolean; status?: string; code?: string };
const N = 200;

describe('opening one fresh file from many threads at once', () => {
  it('every thread gets a working WAL database with one schema and no lock error', async () => {
    const fresh = t.dir.file('fresh.db');
    const outs = await runThreads<string | number>(Array.from({ length: 6 }, () => ({ task: 'open', db: fresh })));
    expect(outs).toEqual(Array.from({ length: 6 }, () => ['wal', 0]));
    const check = new SqliteStore(fresh);
    expect(check.db.prepare('SELECT value FROM meta').pluck().all()).toEqual(['2']);
    expect(check.db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get())
      .toBe(s.db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get());
    await check.close();
  });
});

describe('decisions from four threads at once', () => {
  it(`approve, approve, reject and cancel race over the same ${N} messages: exactly one wins each`, async () => {
    const ids = await holdMany(s, ALICE, N);
    const reqs = [
      { action: 'approve', actor: 'reviewer:1' }, { action: 'approve', actor: 'reviewer:2' },
      { action: 'reject', actor: 'reviewer:3', reason: 'no' }, { action: 'cancel', actor: 'agent:x' },
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
      const events = decisionEvents(s, id);
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
    for (let i = 0; i < N; i++) ids.push(...await holdMany(s, ALICE, 1, T0 + 10 * i));
    const expiries = ids.map((_, i) => T0 + 10 * i + TTL_S * 1000);
    const [approvals, expired] = await runThreads<Decided | string>([
      { task: 'decide', ids, req: { action: 'approve', actor: 'reviewer:1' }, nows: expiries.map((e) => e - 1) },
      { task: 'expire', nows: expiries.map((e) => e + 1) },
    ]) as [Decided[], string[]];
    const expiredSet = new Set(expired);
    expect(expiredSet.size).toBe(expired.length);
    for (const r of approvals) {
      const status = (await s.getMessage(r.id))!.status;
      expect(r.ok ? 'approved' : 'expired').toBe(status);
      expect(expiredSet.has(r.id)).toBe(!r.ok);
      if (!r.ok) expect(r).toMatchObject({ code: 'NOT_PENDING', status: 'expired' });
      expect(decisionEvents(s, r.id)).toEqual([r.ok ? 'message.approved' : 'message.expired']);
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
    const [ca, cb] = await runThreads<number>([{ task: 'deliver', now: T0 + 5 }, { task: 'deliver', now: T0 + 5 }]);
    expect(ca![0]! + cb![0]!).toBe(N);
    for (const id of ids) {
      expect((await s.getMessage(id))).toMatchObject({ status: 'sent', attempts: 1 });
      expect(auditActions(s, id)).toEqual(['message.held', 'message.approved', 'message.sent']);
    }
    const inbox = s.db.prepare("SELECT outbound_message_id, count(*) AS n FROM emails WHERE mailbox = ? AND folder = 'INBOX' GROUP BY 1").all(BOB) as { n: number }[];
    expect(inbox.length).toBe(N);
    expect(inbox.every((r) => r.n === 1)).toBe(true);
    expect(s.db.prepare('SELECT count(*) FROM captured_mail').pluck().get()).toBe(N);
  });
});

describe('idempotent submits from three threads at once (K7)', () => {
  it('same keys, same content: one message per key, every other submit a replay of it', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const outs = await runThreads<{ key: string; ok: boolean; replayed?: boolean; id?: string }>(
      ['a', 'b', 'c'].map((tag) => ({ task: 'submit', keys, tag, mailbox: ALICE, subject: 'same', now: T0 })));
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
      ['a', 'b', 'c'].map((tag) => ({ task: 'submit', keys, tag, mailbox: BOB, subject: `from ${tag}`, now: T0 })));
    for (const key of keys) {
      const rs = outs.map((out) => out.find((r) => r.key === key)!);
      expect(rs.filter((r) => r.ok).length).toBe(1);
      expect(rs.filter((r) => !r.ok).every((r) => r.code === 'IDEMPOTENCY_CONFLICT')).toBe(true);
    }
    expect(s.db.prepare('SELECT count(*) FROM messages').pluck().get()).toBe(100);
  });
});
