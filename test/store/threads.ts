/**
 * Worker threads for true parallelism: each thread opens its own SqliteStore on the same file and runs one task
 * (decide, expire, submit, deliver, open). Threads are released together from a barrier, and the lockstep
 * tasks also meet at a barrier before every row, so each row is a real race for the write lock.
 * The threads run src/ transpiled to plain JS (sqlite-fixtures.ts transpileSrc), since vitest does not transform them.
 */
import { Worker } from 'node:worker_threads';
import { tempDir } from '../helpers/tmp.js';
import { transpileSrc } from './sqlite-fixtures.js';

const THREAD = `
const { workerData: w, parentPort } = require('node:worker_threads');
(async () => {
  const { SqliteStore } = await import(w.src + 'domain/sqlite-store.js');
  const { DeliveryWorker } = await import(w.src + 'services/deliver.js');
  const { sandboxTransport } = await import(w.src + 'services/sandbox.js');
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
  // Lockstep: every lockstep thread attempts row i at the same moment, so each row is a real race. (Without it, the
  // thread that first gets the lock stays ahead and the others only ever find rows already decided.)
  const bar = new Int32Array(w.bar);
  const sync = () => {
    const gen = Atomics.load(bar, 1);
    if (Atomics.add(bar, 0, 1) === w.lockstep - 1) { Atomics.store(bar, 0, 0); Atomics.add(bar, 1, 1); Atomics.notify(bar, 1); }
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
    // With whileDeciding, keep delivering until every lockstep thread has finished, then make one last pass.
    while (w.whileDeciding && Atomics.load(flags, 2) < w.lockstep) {
      await worker.tick();
      await new Promise((r) => setImmediate(r));
    }
    await worker.tick();
    out.push(claimed);
  } else if (w.task === 'submit') {
    for (const [i, key] of w.keys.entries()) {
      sync();
      const c = { to: ['someone@external.example'], cc: [], bcc: [], subject: w.subject + ' ' + i, text: 'x', html: null };
      const action = { kind: 'send', recipients: c.to, subject: c.subject, isReply: false, mailbox: w.mailbox, text: c.text, html: null };
      const gate = (mb, facts, limits) => evaluate({ mode: mb.oversight_mode, rules: mb.auto_approve_rules, limits }, { requireApproval: false }, action, facts);
      const req = { message_id: 'msg_' + w.tag + '_' + i, message_id_header: '<' + w.tag + '.' + i + '@sandbox.test>', mailbox: w.mailbox,
        kind: 'send', content: c, idempotency_key: key, actor: 'agent:' + w.tag };
      try { const r = await store.submitMessage(req, gate, w.now); out.push({ key, ok: true, replayed: r.replayed, id: r.message.message_id }); }
      catch (e) { out.push({ key, ...fail(e) }); }
    }
  }
  if (LOCKSTEP.includes(w.task)) Atomics.add(flags, 2, 1);
  if (store) await store.close();
  parentPort.postMessage({ out });
})().catch((e) => parentPort.postMessage({ fatal: String((e && e.stack) || e) }));
`;

const LOCKSTEP = ['decide', 'expire', 'submit'];

/** A thread task: `task` names it; the other keys are its parameters (`db` overrides the default file). */
export type ThreadTask = { task: 'open' | 'decide' | 'expire' | 'deliver' | 'submit' } & Record<string, unknown>;

/** Transpiles src/ once; `run` then starts one thread per task on a database file and returns each one's output. */
export function threadRunner() {
  const build = tempDir('mailgate-build-');
  const src = transpileSrc(build.path);
  const script = `const LOCKSTEP = ${JSON.stringify(LOCKSTEP)};\n${THREAD}`;
  return {
    async run<T>(db: string, tasks: ThreadTask[]): Promise<T[][]> {
      const sab = new SharedArrayBuffer(12);
      const bar = new SharedArrayBuffer(8);
      const flags = new Int32Array(sab);
      const lockstep = tasks.filter((x) => LOCKSTEP.includes(x.task)).length;
      const workers: Worker[] = [];
      const results = tasks.map(
        (task) =>
          new Promise<T[]>((resolve, reject) => {
            const w = new Worker(script, { eval: true, workerData: { src, db, ...task, sab, bar, lockstep } });
            workers.push(w);
            w.once('message', (m: { out?: T[]; fatal?: string }) => (m.fatal ? reject(new Error(m.fatal)) : resolve(m.out!)));
            w.once('error', reject);
          }),
      );
      try {
        while (Atomics.load(flags, 0) < tasks.length) await new Promise((r) => setTimeout(r, 5));
        Atomics.store(flags, 1, 1);
        Atomics.notify(flags, 1);
        return await Promise.all(results);
      } finally {
        // A thread that failed leaves the others waiting at the barrier; never leave them behind.
        await Promise.all(workers.map((w) => w.terminate()));
      }
    },
    cleanup: () => build.cleanup(),
  };
}
