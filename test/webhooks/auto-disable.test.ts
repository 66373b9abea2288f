/**
 * An endpoint that has received nothing for five days while deliveries to it kept failing is switched off
 * when one more delivery gives up (reliability G8), and says why in the audit log. Driven through the store
 * with a test clock: the point is the rule, not the retry schedule (delivery.test.ts covers that).
 */
import { describe, expect, it } from 'vitest';
import { AUTO_DISABLE_AFTER_MS } from '../../src/domain/webhook-ops.js';
import { ALICE, OPERATOR, T0, addMailbox, content, eventsOf, submit, useStore } from '../store/fixtures.js';

const SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const DAY = 86_400_000;

const db = useStore((s) => addMailbox(s, ALICE, 'gated_send'));
let serial = 0;

/** Holds one draft (an email.pending event for the endpoint) and takes its delivery through one attempt. */
async function attempt(now: number, outcome: 'delivered' | 'failed'): Promise<void> {
  await submit(db.s, ALICE, content({ subject: `event ${++serial}` }), { now });
  const [d] = await db.s.claimWebhookDeliveries('w', now, 60_000, 1);
  if (!d) throw new Error('expected a due delivery');
  const o = outcome === 'delivered' ? { kind: 'delivered' as const, status: 200 } : { kind: 'failed' as const, status: 500, error: 'gave up' };
  expect(await db.s.recordWebhookAttempt(d, 'w', o, now)).toBe(true);
}

const endpoint = async (id: string) => (await db.s.listWebhookEndpoints({ include_disabled: true })).find((e) => e.endpoint_id === id)!;

describe('auto-disable', () => {
  it('disables an endpoint with nothing delivered for five days once another delivery gives up, and audits why', async () => {
    const ep = await db.s.addWebhookEndpoint({ url: 'http://127.0.0.1:9/hook', secrets: [SECRET], events: null, mailbox: null }, OPERATOR, T0);
    await attempt(T0 + DAY, 'delivered');
    await attempt(T0 + DAY + AUTO_DISABLE_AFTER_MS - 1, 'failed');
    expect((await endpoint(ep.endpoint_id)).disabled_at).toBeNull();
    const at = T0 + DAY + AUTO_DISABLE_AFTER_MS + 1;
    await attempt(at, 'failed');
    expect((await endpoint(ep.endpoint_id)).disabled_at).toBe(at);
    const [removed] = await eventsOf(db.s, 'webhook.removed');
    expect(removed!.actor).toBe('system:webhooks');
    expect(removed!.detail.reason).toMatch(/auto-disabled: nothing delivered for 5 days/);
    // New events no longer queue deliveries for it.
    await submit(db.s, ALICE, content({ subject: 'after' }), { now: at + 1 });
    expect(await db.s.claimWebhookDeliveries('w', at + 2, 60_000, 10)).toEqual([]);
  });

  it('leaves alone an endpoint younger than five days, whatever fails', async () => {
    const ep = await db.s.addWebhookEndpoint({ url: 'http://127.0.0.1:9/young', secrets: [SECRET], events: null, mailbox: null }, OPERATOR, T0);
    await attempt(T0 + AUTO_DISABLE_AFTER_MS - 1, 'failed');
    expect((await endpoint(ep.endpoint_id)).disabled_at).toBeNull();
  });

  it('a failure does not disable an endpoint that took a delivery within five days', async () => {
    const ep = await db.s.addWebhookEndpoint({ url: 'http://127.0.0.1:9/alive', secrets: [SECRET], events: null, mailbox: null }, OPERATOR, T0);
    await attempt(T0 + 10 * DAY, 'delivered');
    await attempt(T0 + 11 * DAY, 'failed');
    expect((await endpoint(ep.endpoint_id)).disabled_at).toBeNull();
  });
});
