/**
 * estimated_review_time on a pending send (issue 11): null until the mailbox has review history, then the median
 * time people took over recent decisions; expiries, cancellations and undecided mail do not count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { roughly } from '../../src/services/review-estimate.js';
import { type Harness, ok, startHarness } from './harness.js';

const AGENT = 'agent@mailgate.test';
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MIN = 60_000;

describe('estimated_review_time', () => {
  it('is null without history, then the median of the decisions people made', async () => {
    let now = Date.parse('2026-12-01T09:00:00Z');
    h = await startHarness({ clock: () => now });
    const hold = async (subject: string) => ok(await h!.agent.call('send_email', { mailbox: AGENT, to: 'someone@example.com', subject, text: 'x' }));
    const first = await hold('first');
    expect(first).toMatchObject({ status: 'pending', estimated_review_time: null });

    // Decided after 10, 30 and 20 minutes (one of them a rejection); one withdrawn by the agent after 5 hours.
    for (const [minutes, decide] of [
      [10, 'approve'],
      [30, 'reject'],
    ] as const) {
      const m = await hold(`decided after ${minutes}m`);
      now += minutes * MIN;
      const args = decide === 'approve' ? { message_id: m.message_id } : { message_id: m.message_id, reason: 'no' };
      ok(await h.reviewer.call(decide === 'approve' ? 'queue_approve' : 'queue_reject', args));
    }
    const cancelled = await hold('withdrawn');
    now += 300 * MIN;
    ok(await h.agent.call('cancel_message', { message_id: cancelled.message_id }));
    expect((await hold('two decisions are not enough')).estimated_review_time).toBeNull();

    const third = await hold('third');
    now += 20 * MIN;
    ok(await h.reviewer.call('queue_approve', { message_id: third.message_id }));
    expect((await hold('now it can tell')).estimated_review_time).toBe('20m');
  });

  it('is not on answers that are not pending', async () => {
    h = await startHarness();
    const sent = ok(await h.agent.call('send_email', { mailbox: 'you@mailgate.test', to: AGENT, subject: 'autonomous', text: 'x' }));
    expect(sent.status).toBe('sent');
    expect(sent).not.toHaveProperty('estimated_review_time');
  });
});

describe('roughly', () => {
  it.each([
    [0.2, '1s'],
    [45, '45s'],
    [89, '89s'],
    [90, '2m'],
    [25 * 60, '25m'],
    [89 * 60, '89m'],
    [3 * 3600, '3h'],
    [47 * 3600, '47h'],
    [49 * 3600, '2d'],
  ])('%s s reads %s', (seconds, text) => {
    expect(roughly(seconds)).toBe(text);
  });
});
