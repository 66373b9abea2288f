/**
 * Two dispatchers on two connections to one database (two processes, as far as SQLite is concerned) deliver
 * each (event, endpoint) once; a claimed delivery is not sent by anyone else while its lease lasts, and is
 * sent again, with the same webhook-id, once the lease of a claimant that died runs out.
 */
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sendEmail } from '../../src/services/send.js';
import { holdsFor } from '../e2e/harness.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { WebhookDispatcher } from '../../src/webhooks/dispatcher.js';
import { AGENT, FAST, GATED, type TestApp, deliveries, secret, startApp, startReceiver, stopReceivers, until } from './helpers.js';

const SECRET = secret();
let t: TestApp | undefined;
const others: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of others.splice(0)) await o.stop();
  await t?.close();
  t = undefined;
});
afterAll(stopReceivers);

const holdMany = async (n: number) => {
  for (let i = 0; i < n; i++) await sendEmail(t!.app, AGENT, { mailbox: GATED, to: ['bob@example.com'], subject: `held ${i}`, text: 'body' });
};

/** A second "process": its own connection and dispatcher on the same file. */
function second(dbPath: string) {
  const store = new SqliteStore(dbPath);
  const dispatcher = new WebhookDispatcher(store, Date.now, FAST);
  others.push({
    stop: async () => {
      await dispatcher.stop();
      await store.close();
    },
  });
  return { store, dispatcher };
}

describe('two dispatchers on one database', () => {
  it('deliver each of 60 events exactly once, counted by webhook-id at the receiver', async () => {
    const rx = await startReceiver();
    t = await startApp([{ url: rx.url, secret: SECRET }]);
    await holdMany(60);
    const b = second(t.dbPath);
    // Both drain at once, several times over; the receiver is the oracle.
    await Promise.all([t.app.webhooks.tick(), b.dispatcher.tick(), t.app.webhooks.tick(), b.dispatcher.tick()]);
    await Promise.all([t.app.webhooks.tick(), b.dispatcher.tick()]);
    const ids = rx.received.map((r) => r.id);
    expect(ids).toHaveLength(60);
    expect(new Set(ids).size).toBe(60);
    expect(deliveries(t.app).every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
  });

  it('while both run in the background, with a slow receiver, still once each', async () => {
    const rx = await startReceiver(0, { delayMs: 30 });
    t = await startApp([{ url: rx.url, secret: SECRET }], { background: true });
    const b = second(t.dbPath);
    b.dispatcher.start();
    await holdMany(30);
    await until(() => deliveries(t!.app).filter((d) => d.status === 'delivered').length === 30, '30 delivered');
    await holdsFor(() => rx.received.length === 30, 100, 'thirty POSTs, no duplicate');
    expect(new Set(rx.received.map((r) => r.id)).size).toBe(30);
    expect(rx.received).toHaveLength(30);
  });
});

describe('leases', () => {
  it('a claimed delivery is not sent by another dispatcher until the lease runs out, then with the same id', async () => {
    const rx = await startReceiver();
    t = await startApp([{ url: rx.url, secret: SECRET }]);
    await holdMany(1);
    // A claimant that POSTs and dies before recording (the crash between POST and record).
    const claimedAt = Date.now();
    const [claimed] = await t.app.store.claimWebhookDeliveries('elsewhere:1:ghost', Date.now(), 300, 10);
    expect(claimed).toBeDefined();
    await t.app.webhooks.tick();
    expect(rx.received).toHaveLength(0);
    // Ticks until the lease runs out and the delivery is taken over; it must not happen before then.
    await until(async () => {
      await t!.app.webhooks.tick();
      return rx.received.length > 0;
    }, 'the delivery after the lease');
    expect(Date.now() - claimedAt).toBeGreaterThanOrEqual(300);
    expect(rx.received.map((r) => r.id)).toEqual([claimed!.event_id]);
    expect(deliveries(t.app)[0]).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('a lease held by a dead process on this host is released when a dispatcher starts', async () => {
    const rx = await startReceiver();
    t = await startApp([{ url: rx.url, secret: SECRET }]);
    await holdMany(1);
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
    await t.app.store.claimWebhookDeliveries(`${hostname()}:${deadPid}:gone`, Date.now(), 3_600_000, 10);
    const b = second(t.dbPath);
    b.dispatcher.start();
    await rx.waitFor(1, 'the released delivery', 5000);
    await until(() => deliveries(t!.app)[0]?.status === 'delivered', 'delivered');
  });
});
