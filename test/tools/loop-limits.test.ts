/**
 * Safe defaults against an agent in a loop, driven through a real SDK client: the default rate limit (60 drafts
 * a minute per mailbox) and the cap on held messages (max_pending, 1,000 by default) refuse the next draft with
 * a catalogued code and when to retry, and both are configurable per mailbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICY_DEFAULTS } from '../../src/gate/policy/index.js';
import { type Harness, ok, startHarness, textOf } from './harness.js';

const HELD = 'held@mailgate.test';
const AUTO = 'auto@mailgate.test';
const SLOW = 'slow@mailgate.test';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    config: {
      mailboxes: [
        { address: HELD, oversight_mode: 'gated_send', policy: { max_pending: 3 } },
        { address: AUTO, oversight_mode: 'autonomous' },
        { address: SLOW, oversight_mode: 'autonomous', policy: { rate_limits: { per_minute: 5 } } },
      ],
    },
  });
});
afterAll(async () => {
  await h?.close();
});

let serial = 0;
const draft = (mailbox: string) => h.agent.call('send_email', { mailbox, to: 'ann@partner.example', subject: `loop ${++serial}`, text: 'again' });
const pendingOf = async (mailbox: string) => (await h.app.store.listPending({ mailbox, limit: 100, now: h.app.clock() })).messages;

describe('the defaults', () => {
  it('are 60 drafts a minute and 1,000 held messages per mailbox', () => {
    expect(POLICY_DEFAULTS.rateLimits).toEqual({ per_minute: 60 });
    expect(POLICY_DEFAULTS.maxPending).toBe(1000);
  });

  it('an autonomous mailbox sends 60 in a minute; the 61st is refused as rate_limited with retry_after', async () => {
    for (let i = 0; i < 60; i++) expect(ok(await draft(AUTO)).status).toBe('sent');
    const r = await draft(AUTO);
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ status: 'blocked', error: 'rate_limited', retry_after: expect.any(String) });
    expect(textOf(r)).toMatch(/per_minute = 60; try again after/);
    const retry = Date.parse(r.structuredContent!.retry_after as string);
    expect(retry).toBeGreaterThan(Date.now());
    expect(retry).toBeLessThanOrEqual(Date.now() + 60_000);
  });
});

describe('configured per mailbox', () => {
  it('rate_limits.per_minute = 5: the 6th draft is refused', async () => {
    for (let i = 0; i < 5; i++) expect(ok(await draft(SLOW)).status).toBe('sent');
    expect((await draft(SLOW)).structuredContent).toMatchObject({ status: 'blocked', error: 'rate_limited' });
  });

  it('max_pending = 3: a 4th draft that would be held is refused (held_limit), not held, and says when to retry', async () => {
    const held = [];
    for (let i = 0; i < 3; i++) held.push(ok(await draft(HELD)));
    expect(held.map((m) => m.status)).toEqual(['pending', 'pending', 'pending']);
    const r = await draft(HELD);
    expect(r.isError).toBe(true);
    // The soonest a place frees for certain: the first held message's expiry.
    expect(r.structuredContent).toMatchObject({ status: 'blocked', error: 'held_limit', retry_after: held[0]!.expires_at });
    expect(textOf(r)).toMatch(/already has 3 messages waiting for a human decision \(max_pending = 3\)/);
    expect(textOf(r)).toMatch(/wait for reviewers to decide/);
    expect(await pendingOf(HELD)).toHaveLength(3);

    // A decision frees a place: the next draft is held again.
    ok(await h.reviewer.call('queue_reject', { message_id: held[0]!.message_id, reason: 'not now' }));
    expect(ok(await draft(HELD)).status).toBe('pending');
    expect((await draft(HELD)).structuredContent).toMatchObject({ error: 'held_limit' });
  });
});
