/**
 * Two connections (two worker threads, each with its own SqliteStore on one file) submit at the same moment
 * into a mailbox one message short of its rate limit. The counts are read inside the submit's BEGIN IMMEDIATE
 * transaction, so the second submit sees the first: in every trial exactly one gets through. Were the facts
 * read before taking the write lock, both would see limit - 1 and both would pass. The same holds for the cap
 * on held messages (max_pending): two drafts racing for the last place are never both held. SQLite-only (threads
 * on one file); the same races between instances, on both backends: conformance/instances.test.ts.
 */
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/domain/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';
import { addMailbox, content, submit, T0 } from './fixtures.js';
import { sqliteDb, transpileSrc } from './sqlite-fixtures.js';

const TRIALS = 50;
const LIMIT = 2;

// Both threads meet at a barrier before every trial, so each trial is a real race for the write lock.
const THREAD = `
const { workerData: w, parentPort } = require('node:worker_threads');
(async () => {
  const { SqliteStore } = await import(w.src + 'domain/sqlite-store.js');
  const { evaluate } = await import(w.src + 'gate/evaluate.js');
  const store = new SqliteStore(w.db, { busyTimeoutMs: 30000 });
  const bar = new Int32Array(w.bar);
  const meet = () => {
    const round = Atomics.load(bar, 1);
    if (Atomics.add(bar, 0, 1) === 1) { Atomics.store(bar, 0, 0); Atomics.add(bar, 1, 1); Atomics.notify(bar, 1); }
    else Atomics.wait(bar, 1, round);
  };
  const codes = [];
  for (const [i, mailbox] of w.mailboxes.entries()) {
    meet();
    const c = { to: ['r@race.test'], cc: [], bcc: [], subject: w.tag + ' ' + i, text: 'x', html: null };
    const action = { kind: 'send', recipients: c.to, subject: c.subject, isReply: false, mailbox, text: c.text };
    const gate = (mb, facts, limits) => evaluate({ mode: mb.oversight_mode, rules: [], limits }, { requireApproval: false }, action, facts);
    const req = { message_id: 'msg_' + w.tag + '_' + i, message_id_header: '<' + w.tag + '.' + i + '@race.test>', mailbox, kind: 'send', content: c, actor: 'agent:' + w.tag };
    codes.push((await store.submitMessage(req, gate, w.now)).message.gate_code);
  }
  await store.close();
  parentPort.postMessage({ codes });
})().catch((e) => parentPort.postMessage({ fatal: String((e && e.stack) || e) }));
`;

let build: ReturnType<typeof tempDir>;
let src: string;
let t: ReturnType<typeof sqliteDb>;
let s: SqliteStore;
beforeAll(() => {
  build = tempDir('mailgate-build-');
  src = transpileSrc(build.path);
  t = sqliteDb();
  s = t.open();
});
afterAll(async () => {
  await t.close();
  build.cleanup();
});

function thread(tag: string, mailboxes: string[], bar: SharedArrayBuffer): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(THREAD, { eval: true, workerData: { src, db: t.path, tag, mailboxes, bar, now: T0 + 1000 } });
    w.once('message', (m: { codes?: string[]; fatal?: string }) => (m.fatal ? reject(new Error(m.fatal)) : resolve(m.codes!)));
    w.once('error', reject);
  });
}

describe('racing submits at a rate limit', () => {
  it(`${TRIALS} trials, two connections each: exactly one of the two gets under per_minute = ${LIMIT}`, async () => {
    const mailboxes = Array.from({ length: TRIALS }, (_, i) => `race${i}@race.test`);
    for (const mb of mailboxes) {
      await addMailbox(s, mb, 'autonomous', { policy: { dedupe_window: 0, rate_limits: { per_minute: LIMIT } } });
      for (let n = 0; n < LIMIT - 1; n++) await submit(s, mb, content({ subject: `earlier ${n}` }), { now: T0 + n });
    }
    const bar = new SharedArrayBuffer(8);
    const [a, b] = await Promise.all([thread('a', mailboxes, bar), thread('b', mailboxes, bar)]);
    const trials = mailboxes.map((mb, i) => ({ mb, outcomes: [a![i], b![i]].sort() }));
    expect(trials.filter((x) => x.outcomes.join() !== 'mode_allows,rate_limited')).toEqual([]);
    // The table agrees: each mailbox holds exactly LIMIT messages that count against it.
    const counted = s.db.prepare("SELECT mailbox, count(*) AS n FROM messages WHERE status <> 'blocked' GROUP BY mailbox HAVING n <> ?").all(LIMIT);
    expect(counted).toEqual([]);
  });
});

describe('racing submits at the held cap (max_pending)', () => {
  it(`${TRIALS} trials, two connections each: exactly one of the two is held under max_pending = ${LIMIT}, the other refused`, async () => {
    const mailboxes = Array.from({ length: TRIALS }, (_, i) => `held${i}@race.test`);
    for (const mb of mailboxes) {
      await addMailbox(s, mb, 'gated_send', { policy: { dedupe_window: 0, max_pending: LIMIT } });
      for (let n = 0; n < LIMIT - 1; n++) expect((await submit(s, mb, content({ subject: `held ${n}` }), { now: T0 + n })).message.status).toBe('pending');
    }
    const bar = new SharedArrayBuffer(8);
    const [a, b] = await Promise.all([thread('c', mailboxes, bar), thread('d', mailboxes, bar)]);
    const trials = mailboxes.map((mb, i) => ({ mb, outcomes: [a![i], b![i]].sort() }));
    expect(trials.filter((x) => x.outcomes.join() !== 'held_limit,mode_requires_approval')).toEqual([]);
    const over = s.db
      .prepare("SELECT mailbox, count(*) AS n FROM messages WHERE mailbox LIKE 'held%' AND status = 'pending' GROUP BY mailbox HAVING n <> ?")
      .all(LIMIT);
    expect(over).toEqual([]);
  });
});
