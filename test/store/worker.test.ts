/** The DeliveryWorker over the sandbox: two workers on two connections deliver every message exactly once. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TransportRegistry } from '../../src/mail/ports.js';
import { sandboxTransport } from '../../src/mail/sandbox.js';
import { DeliveryWorker } from '../../src/services/deliver.js';
import type { SqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { ALICE, BOB, CAROL, OUTSIDER, T0, TTL_S, addMailbox, approveMany, auditActions, content, holdMany, testDb } from './fixtures.js';

let t: ReturnType<typeof testDb>;
let a: SqliteStore;
let b: SqliteStore;
beforeEach(async () => {
  t = testDb();
  a = t.open();
  b = t.open();
  await addMailbox(a, ALICE, 'gated_send');
  await addMailbox(a, BOB, 'gated_send');
  await addMailbox(a, CAROL, 'gated_send');
});
afterEach(async () => { await t.close(); });

function registry(store: Store, clock: () => number): TransportRegistry {
  const transport = sandboxTransport(store, clock);
  return { forMailbox: () => transport, close: async () => {} };
}

/** The real store, with the number of messages each claim returned counted (to see both workers took part). */
function counted(store: SqliteStore) {
  const claims = { n: 0 };
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimForDelivery') {
        return async (...args: Parameters<SqliteStore['claimForDelivery']>) => {
          const r = await target.claimForDelivery(...args);
          claims.n += r.length;
          return r;
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store: proxy as Store, claims };
}

const perCopy = (mailbox: string, folder: string) => a.db.prepare(
  'SELECT outbound_message_id, count(*) AS n FROM emails WHERE mailbox = ? AND folder = ? GROUP BY outbound_message_id').all(mailbox, folder) as
  { outbound_message_id: string; n: number }[];

describe('two DeliveryWorkers on two connections', () => {
  it('send each of 50 approved messages exactly once, one INBOX copy per recipient per message', async () => {
    const ids = await approveMany(a, ALICE, 50, (i) => content({ to: [BOB, OUTSIDER], cc: [CAROL], subject: `m${i}` }), T0);
    const clock = () => T0 + 10;
    const wa = counted(a);
    const wb = counted(b);
    const workerA = new DeliveryWorker(wa.store, registry(wa.store, clock), clock);
    const workerB = new DeliveryWorker(wb.store, registry(wb.store, clock), clock);
    await Promise.all([workerA.tick(), workerB.tick()]);

    expect(wa.claims.n + wb.claims.n).toBe(50);
    expect(wa.claims.n).toBeGreaterThan(0);
    expect(wb.claims.n).toBeGreaterThan(0);
    for (const id of ids) {
      expect((await a.getMessage(id))).toMatchObject({ status: 'sent', attempts: 1, lease_owner: null });
      expect(auditActions(a, id)).toEqual(['message.held', 'message.approved', 'message.sent']);
    }
    for (const [mailbox, folder] of [[BOB, 'INBOX'], [CAROL, 'INBOX'], [ALICE, 'Sent']] as const) {
      const rows = perCopy(mailbox, folder);
      expect(rows.map((r) => r.outbound_message_id).sort()).toEqual([...ids].sort());
      expect(rows.every((r) => r.n === 1)).toBe(true);
    }
    expect(a.db.prepare('SELECT count(*) FROM emails').pluck().get()).toBe(150);
    expect((await a.listCaptured(1000)).filter((c) => c.recipient === OUTSIDER).length).toBe(50);
    expect(await a.verifyAudit()).toMatchObject({ ok: true });

    // Another round finds nothing left to do.
    await Promise.all([workerA.tick(), workerB.tick()]);
    expect(a.db.prepare("SELECT count(*) FROM audit_events WHERE action = 'message.sent'").pluck().get()).toBe(50);
  });

  it('expire held mail that is due and never deliver it', async () => {
    const held = await holdMany(a, ALICE, 5, T0);
    const clock = () => T0 + TTL_S * 1000;
    await Promise.all([new DeliveryWorker(a, registry(a, clock), clock).tick(), new DeliveryWorker(b, registry(b, clock), clock).tick()]);
    for (const id of held) expect(auditActions(a, id)).toEqual(['message.held', 'message.expired']);
    expect(a.db.prepare('SELECT count(*) FROM emails').pluck().get()).toBe(0);
  });
});

describe('a worker that died mid-delivery', () => {
  /** Claims and delivers through the sandbox as worker 'dead', then stops before recording the outcome. */
  async function dieAfterSending(): Promise<string> {
    const [id] = await approveMany(a, ALICE, 1, () => content({ to: [BOB], subject: 'once only' }), T0);
    const [m] = await a.claimForDelivery('dead', T0 + 1, 60_000, 10);
    await sandboxTransport(a, () => T0 + 1).sender.send(m!);
    return id!;
  }

  it('is recovered by another worker after the lease, and the recipient still has one copy', async () => {
    const id = await dieAfterSending();
    const clock = () => T0 + 1 + 60_001;
    await new DeliveryWorker(b, registry(b, clock), clock).tick();
    expect((await a.getMessage(id))).toMatchObject({ status: 'sent', attempts: 2 });
    expect(auditActions(a, id)).toEqual(['message.held', 'message.approved', 'message.retry_scheduled', 'message.sent']);
    expect(perCopy(BOB, 'INBOX')).toEqual([{ outbound_message_id: id, n: 1 }]);
  });

  it('is recovered without a second copy even if the recipient archived the first one meanwhile', async () => {
    const id = await dieAfterSending();
    const [copy] = await a.listEmails({ mailbox: BOB, folder: 'INBOX', unread_only: false, limit: 1 });
    await a.applyTag({ email_id: copy!.email_id, add_flags: ['\\Seen'], remove_flags: [], move_to: 'Archive' });
    const clock = () => T0 + 1 + 60_001;
    await new DeliveryWorker(b, registry(b, clock), clock).tick();
    expect((await a.getMessage(id))!.status).toBe('sent');
    expect(a.db.prepare('SELECT folder FROM emails WHERE mailbox = ? AND outbound_message_id = ?').pluck().all(BOB, id)).toEqual(['Archive']);
  });
});
