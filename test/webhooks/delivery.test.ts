/**
 * Durable delivery against a real local receiver: retries after a 500 or while the receiver is down, with the
 * same webhook-id; redirects never followed; a receiver that never answers times out; giving up after the last
 * scheduled attempt. The schedule is shortened through the dispatcher's options.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sendEmail } from '../../src/services/send.js';
import { holdsFor } from '../e2e/harness.js';
import type { SqliteStore } from '../../src/domain/sqlite-store.js';
import { MAX_ATTEMPTS } from '../../src/webhooks/dispatcher.js';
import { AGENT, GATED, type TestApp, deliveries, secret, startApp, startReceiver, stopReceivers, unusedPort, until, verify } from './helpers.js';

const SECRET = secret();
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});
afterAll(stopReceivers);

const hold = (subject = 'Held for review') => sendEmail(t!.app, AGENT, { mailbox: GATED, to: ['bob@example.com'], subject, text: 'body' });

describe('retries', () => {
  it('a 500, then a 200: sent again with the same webhook-id, and recorded as delivered after 2 attempts', async () => {
    const rx = await startReceiver();
    rx.reply(500);
    t = await startApp([{ url: rx.url, secret: SECRET }], { background: true });
    await hold();
    const [first, second] = await rx.waitFor(2);
    expect(second!.id).toBe(first!.id);
    expect(second!.body).toBe(first!.body);
    expect(() => verify(SECRET, second!)).not.toThrow();
    await until(() => deliveries(t!.app)[0]?.status === 'delivered', 'delivered');
    expect(deliveries(t.app)).toEqual([expect.objectContaining({ status: 'delivered', attempts: 2, last_status: 200, last_error: null })]);
    // Nothing more is sent once it is delivered.
    await holdsFor(() => rx.received.length === 2, 100, 'two POSTs, no third');
  });

  it('a receiver that is down (connection refused), then started on that port: delivered', async () => {
    const port = await unusedPort();
    t = await startApp([{ url: `http://127.0.0.1:${port}/hooks`, secret: SECRET }], { background: true });
    const { message_id } = await hold();
    await until(() => (deliveries(t!.app)[0]?.attempts ?? 0) >= 2, 'two refused attempts');
    expect(deliveries(t.app)[0]).toMatchObject({ status: 'pending', last_status: null, last_error: expect.stringMatching(/ECONNREFUSED/) });
    const rx = await startReceiver(port);
    const [r] = await rx.waitFor(1);
    expect(r!.json).toMatchObject({ type: 'email.pending', data: { message_id } });
    expect(() => verify(SECRET, r!)).not.toThrow();
    await until(() => deliveries(t!.app)[0]?.status === 'delivered', 'delivered');
  });

  it('a receiver that never answers: the attempt times out and is retried', async () => {
    const rx = await startReceiver();
    rx.reply('hang');
    t = await startApp([{ url: rx.url, secret: SECRET }], { background: true, webhooks: { pollMs: 20, retryBaseMs: 300, timeoutMs: 200 } });
    await hold();
    await until(() => deliveries(t!.app)[0]?.last_error === 'no response within 200 ms', 'the timeout recorded');
    const [first, second] = await rx.waitFor(2);
    expect(second!.id).toBe(first!.id);
    await until(() => deliveries(t!.app)[0]?.status === 'delivered', 'delivered');
  });

  it(`gives up after ${MAX_ATTEMPTS} attempts: failed, with the last status and error kept`, async () => {
    const rx = await startReceiver();
    rx.reply(...Array<number>(MAX_ATTEMPTS + 5).fill(503));
    // The whole day-long schedule, shrunk to well under a second.
    t = await startApp([{ url: rx.url, secret: SECRET }], { background: true, webhooks: { pollMs: 10, retryBaseMs: 0.02, timeoutMs: 2000 } });
    await hold();
    await until(() => deliveries(t!.app)[0]?.status === 'failed', 'failed', 15_000);
    expect(deliveries(t.app)[0]).toMatchObject({ attempts: MAX_ATTEMPTS, last_status: 503, last_error: `gave up after ${MAX_ATTEMPTS} attempts: HTTP 503` });
    expect(rx.received).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(rx.received.map((r) => r.id)).size).toBe(1);
  });
});

describe('redirects', () => {
  it('a 302 is a failed attempt and is never followed: the redirect target receives nothing', async () => {
    const target = await startReceiver();
    const rx = await startReceiver();
    rx.reply({ status: 302, headers: { location: target.url } }, { status: 307, headers: { location: target.url } });
    t = await startApp([{ url: rx.url, secret: SECRET }], { background: true });
    await hold();
    await rx.waitFor(3, 'two redirects, then the delivery');
    await until(() => deliveries(t!.app)[0]?.status === 'delivered', 'delivered');
    expect(target.received).toHaveLength(0);
    expect(deliveries(t.app)[0]).toMatchObject({ attempts: 3 });
  });

  it('records the redirect as the reason for the retry', async () => {
    const target = await startReceiver();
    const rx = await startReceiver();
    rx.reply(...Array<{ status: number; headers: Record<string, string> }>(50).fill({ status: 301, headers: { location: target.url } }));
    t = await startApp([{ url: rx.url, secret: SECRET }], { background: true, webhooks: { pollMs: 20, retryBaseMs: 60_000 } });
    await hold();
    await until(() => deliveries(t!.app)[0]?.last_status === 301, 'the 301 recorded');
    expect(deliveries(t.app)[0]).toMatchObject({ status: 'pending', last_error: 'HTTP 301 redirect (not followed)' });
    expect(target.received).toHaveLength(0);
  });
});

describe('filters and the outbox', () => {
  it('per-mailbox and per-event filters: each endpoint gets only what it asked for', async () => {
    const [all, gatedOnly, rejectedOnly, otherMailbox] = await Promise.all([startReceiver(), startReceiver(), startReceiver(), startReceiver()]);
    t = await startApp(
      [
        { url: all.url, secret: SECRET },
        { url: gatedOnly.url, secret: SECRET, mailbox: GATED },
        { url: rejectedOnly.url, secret: SECRET, events: ['email.rejected'] },
        { url: otherMailbox.url, secret: SECRET, mailbox: 'you@mailgate.test', events: ['email.pending', 'email.rejected'] },
      ],
      { background: true },
    );
    const { message_id } = await hold();
    await t.app.store.decideMessage(message_id, { action: 'reject', actor: 'reviewer:test', reason: 'no' }, Date.now());
    await all.waitFor(2);
    await gatedOnly.waitFor(2);
    await rejectedOnly.waitFor(1);
    await t.app.webhooks.tick();
    expect(all.received.map((r) => r.json.type)).toEqual(['email.pending', 'email.rejected']);
    expect(gatedOnly.received.map((r) => r.json.type)).toEqual(['email.pending', 'email.rejected']);
    expect(rejectedOnly.received.map((r) => r.json.type)).toEqual(['email.rejected']);
    expect(otherMailbox.received).toHaveLength(0);
    // One event, one id, whichever endpoint it goes to.
    expect(rejectedOnly.received[0]!.id).toBe(all.received[1]!.id);
  });

  it('writes nothing to the outbox when no endpoint wants the event', async () => {
    t = await startApp([]);
    await hold();
    const db = (t.app.store as SqliteStore).db;
    expect(db.prepare('SELECT count(*) FROM webhook_events').pluck().get()).toBe(0);
    expect(db.prepare("SELECT count(*) FROM audit_events WHERE action = 'message.held'").pluck().get()).toBe(1);
  });

  it('queues an event only if its transaction commits', async () => {
    t = await startApp([{ url: 'http://127.0.0.1:9/never', secret: SECRET }]);
    const { message_id } = await hold();
    const db = (t.app.store as SqliteStore).db;
    const before = db.prepare('SELECT count(*) FROM webhook_events').pluck().get();
    const { appendAudit } = await import('../../src/store/audit.js');
    await expect(
      (t.app.store as SqliteStore).driver.tx(async (q) => {
        await appendAudit(q, { actor: 'test', action: 'message.rejected', mailbox: GATED, message_id }, Date.now());
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(db.prepare('SELECT count(*) FROM webhook_events').pluck().get()).toBe(before);
  });
});
