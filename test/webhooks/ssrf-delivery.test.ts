/**
 * The check at delivery, on the RESOLVED address: a host name that resolves to loopback is refused unless the
 * endpoint allows private networks, and a counting receiver on 127.0.0.1 proves nothing reached it. The
 * dispatcher resolves once and connects to exactly what it checked: a name only the test's resolver knows is
 * delivered to, so the socket never did a lookup of its own (DNS rebinding has no second answer to use).
 */
import type { LookupAddress } from 'node:dns';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sendEmail } from '../../src/services/send.js';
import { AGENT, FAST, GATED, type TestApp, deliveries, secret, startApp, startReceiver, stopReceivers, until, verify } from './helpers.js';

const SECRET = secret();
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});
afterAll(stopReceivers);

const hold = () => sendEmail(t!.app, AGENT, { mailbox: GATED, to: ['bob@example.com'], subject: 'Held for review', text: 'body' });

/** A resolver standing in for DNS: answers `addresses` for every name and counts the lookups. */
function resolver(...addresses: string[]) {
  const r = {
    calls: [] as string[],
    resolve: async (host: string): Promise<LookupAddress[]> => {
      r.calls.push(host);
      return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
  return r;
}

/** Waits until the delivery has failed `n` attempts, and returns its row. */
async function refusedAttempts(n: number) {
  await until(() => (deliveries(t!.app)[0]?.attempts ?? 0) >= n && deliveries(t!.app)[0]?.last_error !== null, `${n} refused attempts`);
  return deliveries(t!.app)[0]!;
}

describe('a host name that resolves to a private address', () => {
  it('is refused at delivery without allow_private_network: a failed attempt saying why, and zero requests at the receiver', async () => {
    const rx = await startReceiver();
    const dns = resolver('127.0.0.1');
    t = await startApp([{ url: `http://hooks.rebind.test:${rx.port}/hooks`, secret: SECRET, allow_private_network: false }], {
      background: true,
      webhooks: { ...FAST, resolve: dns.resolve },
    });
    await hold();
    const row = await refusedAttempts(3);
    expect(row).toMatchObject({ status: 'pending', last_status: null });
    expect(row.last_error).toMatch(/^refused: hooks\.rebind\.test resolves to 127\.0\.0\.1 \(loopback\); .*allow_private_network: true/);
    expect(rx.received).toHaveLength(0);
    // Resolved afresh on every attempt: an answer that changes later is checked too.
    expect(dns.calls.length).toBeGreaterThanOrEqual(3);
    expect(new Set(dns.calls)).toEqual(new Set(['hooks.rebind.test']));
  });

  it('is refused when ANY of its addresses is forbidden (a public one first does not let it through)', async () => {
    const rx = await startReceiver();
    const dns = resolver('93.184.215.14', '127.0.0.1');
    t = await startApp([{ url: `http://mixed.rebind.test:${rx.port}/hooks`, secret: SECRET, allow_private_network: false }], {
      background: true,
      webhooks: { ...FAST, resolve: dns.resolve },
    });
    await hold();
    expect((await refusedAttempts(1)).last_error).toMatch(/^refused: mixed\.rebind\.test resolves to 127\.0\.0\.1 \(loopback\)/);
    expect(rx.received).toHaveLength(0);
  });

  it('is refused for a metadata address even with allow_private_network', async () => {
    const rx = await startReceiver();
    const dns = resolver('169.254.169.254');
    t = await startApp([{ url: `http://meta.rebind.test:${rx.port}/hooks`, secret: SECRET, allow_private_network: true }], {
      background: true,
      webhooks: { ...FAST, resolve: dns.resolve },
    });
    await hold();
    expect((await refusedAttempts(1)).last_error).toMatch(/169\.254\.169\.254 \(a cloud metadata service\), where webhooks are never sent/);
    expect(rx.received).toHaveLength(0);
  });

  it("is delivered with allow_private_network, to the checked address, with the URL's own Host header", async () => {
    const rx = await startReceiver();
    const dns = resolver('127.0.0.1');
    t = await startApp([{ url: `http://hooks.rebind.test:${rx.port}/hooks`, secret: SECRET, allow_private_network: true }], {
      background: true,
      webhooks: { ...FAST, resolve: dns.resolve },
    });
    const { message_id } = await hold();
    const [r] = await rx.waitFor(1);
    expect(r!.json).toMatchObject({ type: 'email.pending', data: { message_id } });
    expect(r!.headers.host).toBe(`hooks.rebind.test:${rx.port}`);
    expect(() => verify(SECRET, r!)).not.toThrow();
    await until(() => deliveries(t!.app)[0]?.status === 'delivered', 'delivered');
    // One lookup for the one attempt: the connection used its answer, not a lookup of its own.
    expect(dns.calls).toEqual(['hooks.rebind.test']);
  });
});

describe('the system resolver (the default)', () => {
  it('localhost with allow_private_network is delivered through the real dns.lookup', async () => {
    const rx = await startReceiver();
    t = await startApp([{ url: `http://localhost:${rx.port}/hooks`, secret: SECRET }], { background: true });
    const { message_id } = await hold();
    const [r] = await rx.waitFor(1);
    expect(r!.json).toMatchObject({ type: 'email.pending', data: { message_id } });
  });
});

describe('an endpoint stored before the check existed', () => {
  it('a loopback URL without allow_private_network is refused at delivery, not only at registration', async () => {
    const rx = await startReceiver();
    t = await startApp([], { background: true });
    // Straight into the store, as an older version (or a hand-edited database) would have left it.
    await t.app.store.addWebhookEndpoint({ url: rx.url, secrets: [SECRET], events: null, mailbox: null }, 'operator:test', Date.now());
    await hold();
    expect((await refusedAttempts(2)).last_error).toMatch(/^refused: the URL points at 127\.0\.0\.1 \(loopback\)/);
    expect(rx.received).toHaveLength(0);
  });
});
