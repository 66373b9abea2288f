/** The DeliveryWorker over the sandbox: two workers on two instances deliver every message exactly once. */
import { describe, expect, it } from 'vitest';
import type { Sender, Transport, TransportRegistry } from '../../../src/mail/ports.js';
import { sandboxTransport } from '../../../src/services/sandbox.js';
import { DeliveryWorker } from '../../../src/services/deliver.js';
import type { Store } from '../../../src/store/store.js';
import { ALICE, BOB, CAROL, OUTSIDER, T0, TTL_S, allEmails, approveMany, auditActions, content, eventsOf, holdMany, useTwoInstances } from '../fixtures.js';

const db = useTwoInstances([
  [ALICE, 'gated_send'],
  [BOB, 'gated_send'],
  [CAROL, 'gated_send'],
]);

function registry(store: Store, clock: () => number): TransportRegistry {
  const transport = sandboxTransport(store, clock);
  return { canServe: () => true, forMailbox: () => transport, close: async () => {} };
}

/** The real store, with the number of messages each claim returned counted (to see both workers took part). */
function counted(store: Store) {
  const claims = { n: 0 };
  const proxy = new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimForDelivery') {
        return async (...args: Parameters<Store['claimForDelivery']>) => {
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

/** Copies in one folder, counted per outbound message. */
async function perCopy(mailbox: string, folder: string): Promise<{ outbound_message_id: string | null; n: number }[]> {
  const n = new Map<string | null, number>();
  for (const e of await db.a.listEmails({ mailbox, folder, unread_only: false, limit: 10_000 }))
    n.set(e.outbound_message_id, (n.get(e.outbound_message_id) ?? 0) + 1);
  return [...n].map(([outbound_message_id, count]) => ({ outbound_message_id, n: count }));
}

describe('two DeliveryWorkers on two instances', () => {
  it('send each of 50 approved messages exactly once, one INBOX copy per recipient per message', async () => {
    const ids = await approveMany(db.a, ALICE, 50, (i) => content({ to: [BOB, OUTSIDER], cc: [CAROL], subject: `m${i}` }), T0);
    const clock = () => T0 + 10;
    const wa = counted(db.a);
    const wb = counted(db.b);
    const workerA = new DeliveryWorker(wa.store, registry(wa.store, clock), clock);
    const workerB = new DeliveryWorker(wb.store, registry(wb.store, clock), clock);
    await Promise.all([workerA.tick(), workerB.tick()]);

    expect(wa.claims.n + wb.claims.n).toBe(50);
    expect(wa.claims.n).toBeGreaterThan(0);
    expect(wb.claims.n).toBeGreaterThan(0);
    for (const id of ids) {
      expect(await db.a.getMessage(id)).toMatchObject({ status: 'sent', attempts: 1, lease_owner: null });
      expect(await auditActions(db.a, id)).toEqual(['message.held', 'message.approved', 'message.sent']);
    }
    for (const [mailbox, folder] of [
      [BOB, 'INBOX'],
      [CAROL, 'INBOX'],
      [ALICE, 'Sent'],
    ] as const) {
      const rows = await perCopy(mailbox, folder);
      expect(rows.map((r) => r.outbound_message_id).sort()).toEqual([...ids].sort());
      expect(rows.every((r) => r.n === 1)).toBe(true);
    }
    expect((await allEmails(db.a)).length).toBe(150);
    expect((await db.a.listCaptured(1000)).filter((c) => c.recipient === OUTSIDER).length).toBe(50);
    expect(await db.a.verifyAudit()).toMatchObject({ ok: true });

    // Another round finds nothing left to do.
    await Promise.all([workerA.tick(), workerB.tick()]);
    expect((await eventsOf(db.a, 'message.sent')).length).toBe(50);
  });
  it('expire held mail that is due and never deliver it', async () => {
    const held = await holdMany(db.a, ALICE, 5, T0);
    const clock = () => T0 + TTL_S * 1000;
    await Promise.all([new DeliveryWorker(db.a, registry(db.a, clock), clock).tick(), new DeliveryWorker(db.b, registry(db.b, clock), clock).tick()]);
    for (const id of held) expect(await auditActions(db.a, id)).toEqual(['message.held', 'message.expired']);
    expect(await allEmails(db.a)).toEqual([]);
  });
});

describe('a worker that died mid-delivery', () => {
  /** Claims and delivers through the sandbox as worker 'dead' (marking it transmitting, as a worker does), then stops before recording the outcome. */
  async function dieAfterSending(): Promise<string> {
    const [id] = await approveMany(db.a, ALICE, 1, () => content({ to: [BOB], subject: 'once only' }), T0);
    const [m] = await db.a.claimForDelivery('dead', T0 + 1, 60_000, 10, [ALICE, BOB, CAROL]);
    await sandboxTransport(db.a, () => T0 + 1).sender.send(m!, { beforeFinalDot: () => db.a.markTransmitting(id!, 'dead', T0 + 1) });
    expect((await db.a.getMessage(id!))?.transmitting_at).toBe(T0 + 1);
    return id!;
  }
  it('is recovered by another worker after the lease (the sandbox is idempotent), and the recipient still has one copy', async () => {
    const id = await dieAfterSending();
    const clock = () => T0 + 1 + 60_001;
    await new DeliveryWorker(db.b, registry(db.b, clock), clock).tick();
    // The dead worker's delivery was never recorded, so only the recorded one counts as an attempt.
    expect(await db.a.getMessage(id)).toMatchObject({ status: 'sent', attempts: 1, transmitting_at: T0 + 1 + 60_001 });
    expect(await auditActions(db.a, id)).toEqual(['message.held', 'message.approved', 'message.retry_scheduled', 'message.sent']);
    expect(await perCopy(BOB, 'INBOX')).toEqual([{ outbound_message_id: id, n: 1 }]);
  });
  it('is recovered without a second copy even if the recipient archived the first one meanwhile', async () => {
    const id = await dieAfterSending();
    const [copy] = await db.a.listEmails({ mailbox: BOB, folder: 'INBOX', unread_only: false, limit: 1 });
    await db.a.applyTag({ email_id: copy!.email_id, add_flags: ['\\Seen'], remove_flags: [], move_to: 'Archive' });
    const clock = () => T0 + 1 + 60_001;
    await new DeliveryWorker(db.b, registry(db.b, clock), clock).tick();
    expect((await db.a.getMessage(id))!.status).toBe('sent');
    expect((await allEmails(db.a)).filter((e) => e.mailbox === BOB && e.outbound_message_id === id).map((e) => e.folder)).toEqual(['Archive']);
  });
});

/**
 * A non-idempotent sender (like SMTP) that records who got past the final dot, and can be held before it
 * starts, so a test can let its lease run out while it is mid-delivery.
 */
function recordingTransport(store: Store, clock: () => number, label: string, transmitted: string[]) {
  let release: () => void = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  let reached: () => void = () => {};
  const atGate = new Promise<void>((r) => {
    reached = r;
  });
  let hold = false;
  const sender: Sender = {
    idempotent: false,
    async send(m, hooks) {
      reached();
      if (hold) await held;
      await hooks.beforeFinalDot();
      transmitted.push(`${label}:${m.message_id}`);
      return { accepted: [...m.to, ...m.cc, ...m.bcc], captured: [], detail: { transport: label } };
    },
  };
  const transport: Transport = { sender, mailbox: sandboxTransport(store, clock).mailbox };
  const reg: TransportRegistry = { canServe: () => true, forMailbox: () => transport, close: async () => {} };
  return {
    registry: reg,
    holdBeforeSending: () => {
      hold = true;
    },
    atGate,
    release,
  };
}

describe('recovery with a sender that is not idempotent', () => {
  const later = () => T0 + 1 + 60_001;
  it('a delivery that died after the final dot becomes outcome_unknown and is never resent', async () => {
    const [id] = await approveMany(db.a, ALICE, 1, () => content({ to: [BOB], subject: 'maybe delivered' }), T0);
    await db.a.claimForDelivery('dead', T0 + 1, 60_000, 10, [ALICE]);
    await db.a.chargeAttempt(id!, 'dead', T0 + 1); // MAIL FROM, as the SMTP sender's hook does
    await db.a.markTransmitting(id!, 'dead', T0 + 1);
    const transmitted: string[] = [];
    const worker = new DeliveryWorker(db.b, recordingTransport(db.b, later, 'b', transmitted).registry, later);
    await worker.tick();
    await worker.tick();
    expect(transmitted).toEqual([]);
    expect(await db.a.getMessage(id!)).toMatchObject({
      status: 'outcome_unknown',
      attempts: 1,
      transmitting_at: T0 + 1,
      lease_owner: null,
      sent_at: null,
      last_error: 'delivery lease of dead expired after the message was transmitted; it may have been delivered, so it is not resent',
    });
    expect(await auditActions(db.a, id!)).toEqual(['message.held', 'message.approved', 'message.outcome_unknown']);
  });
  it('a delivery that died before the final dot is requeued and sent once by the next worker', async () => {
    const [id] = await approveMany(db.a, ALICE, 1, () => content({ to: [BOB], subject: 'never left' }), T0);
    await db.a.claimForDelivery('dead', T0 + 1, 60_000, 10, [ALICE]);
    const transmitted: string[] = [];
    await new DeliveryWorker(db.b, recordingTransport(db.b, later, 'b', transmitted).registry, later).tick();
    expect(transmitted).toEqual([`b:${id}`]);
    // The dead claim never reached the server: one attempt, the one that sent it.
    expect(await db.a.getMessage(id!)).toMatchObject({ status: 'sent', attempts: 1, transmitting_at: later() });
    expect(await auditActions(db.a, id!)).toEqual(['message.held', 'message.approved', 'message.retry_scheduled', 'message.sent']);
  });
  it('a stalled worker whose lease was taken over aborts at the final dot, so only the new owner transmits', async () => {
    const [id] = await approveMany(db.a, ALICE, 1, () => content({ to: [BOB], subject: 'one copy' }), T0);
    let now = T0 + 1;
    const clock = () => now;
    const transmitted: string[] = [];
    const slow = recordingTransport(db.a, clock, 'a', transmitted);
    slow.holdBeforeSending();
    const workerA = new DeliveryWorker(db.a, slow.registry, clock, { leaseMs: 60_000 });
    const tickA = workerA.tick();
    await slow.atGate;
    expect(await db.a.getMessage(id!)).toMatchObject({ status: 'sending', lease_owner: workerA.owner, lease_until: T0 + 1 + 60_000, transmitting_at: null });

    now = T0 + 1 + 60_001;
    const workerB = new DeliveryWorker(db.b, recordingTransport(db.b, clock, 'b', transmitted).registry, clock, { leaseMs: 60_000 });
    await workerB.tick();
    expect(await db.a.getMessage(id!)).toMatchObject({ status: 'sent', lease_owner: null, attempts: 1 });

    slow.release();
    await tickA;
    expect(transmitted).toEqual([`b:${id}`]);
    // A's lease was lost, so its try is never recorded: B's transmission is the one attempt.
    expect(await db.a.getMessage(id!)).toMatchObject({ status: 'sent', attempts: 1, transmitting_at: now });
    expect(await auditActions(db.a, id!)).toEqual(['message.held', 'message.approved', 'message.retry_scheduled', 'message.sent']);
    expect(await db.a.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('mailboxes this process cannot serve', () => {
  it('are left alone: their mail is not claimed and no attempt is spent on it', async () => {
    const [alice] = await approveMany(db.a, ALICE, 1, () => content({ to: [BOB], subject: 'servable' }), T0);
    const [carol] = await approveMany(db.a, CAROL, 1, () => content({ to: [BOB], subject: 'not servable here' }), T0);
    const clock = () => T0 + 10;
    const transport = sandboxTransport(db.a, clock);
    const partial: TransportRegistry = { canServe: (mb) => mb.address !== CAROL, forMailbox: () => transport, close: async () => {} };
    await new DeliveryWorker(db.a, partial, clock).tick();
    expect(await db.a.getMessage(alice!)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await db.a.getMessage(carol!)).toMatchObject({ status: 'approved', attempts: 0, lease_owner: null, last_error: null });
    expect(await auditActions(db.a, carol!)).toEqual(['message.held', 'message.approved']);
    // A process that holds the account delivers it.
    await new DeliveryWorker(db.b, registry(db.b, clock), clock).tick();
    expect(await db.a.getMessage(carol!)).toMatchObject({ status: 'sent', attempts: 1 });
  });
});
