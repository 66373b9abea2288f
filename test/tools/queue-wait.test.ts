/** list_pending paging and mail_wait's bounded wait, timeout and progress notifications. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { waitFor } from '../e2e/harness.js';
import { type Harness, ok, send, startHarness } from './harness.js';

const AGENT = 'agent@mailgate.test';
const YOU = 'you@mailgate.test';

// A fresh app and database per test: the queue a test pages through holds only what it put there.
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h?.close();
});

/** Waits until the clock has moved past the current millisecond, so the next row's created_at is later. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() === now) await new Promise((r) => setImmediate(r));
}

/** Seven held sends from the agent, oldest first, each with its own created_at (for a strict oldest-first check). */
async function holdSeven(): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) {
    ids.push((await send(h.agent, { mailbox: AGENT, to: YOU, subject: `page ${i}` })).message_id);
    await nextMillisecond();
  }
  return ids;
}

describe('list_pending paging', () => {
  it('visits every held message exactly once, oldest first, and ends with next_cursor null', async () => {
    const ids = await holdSeven();
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = ok(await h.reviewer.call('list_pending', { limit: 3, ...(cursor ? { cursor } : {}) }));
      sizes.push(page.messages.length);
      seen.push(...page.messages.map((m: { message_id: string }) => m.message_id));
      if (page.next_cursor === null) break;
      expect(typeof page.next_cursor).toBe('string');
      cursor = page.next_cursor;
    }
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual(ids);
  });

  it('the agent sees the same queue, and a mailbox filter with a limit that fits returns no cursor', async () => {
    await holdSeven();
    const page = ok(await h.agent.call('list_pending', { mailbox: AGENT, limit: 200 }));
    expect(page.messages).toHaveLength(7);
    expect(page.next_cursor).toBeNull();
    expect(ok(await h.agent.call('list_pending', { mailbox: YOU })).messages).toEqual([]);
  });

  it('a decided message drops out of the queue between pages without skipping others', async () => {
    await holdSeven();
    const first = ok(await h.reviewer.call('list_pending', { limit: 2 }));
    const [a, b] = first.messages as { message_id: string }[];
    await h.reviewer.call('queue_reject', { message_id: a!.message_id, reason: 'r' });
    await h.reviewer.call('queue_reject', { message_id: b!.message_id, reason: 'r' });
    const rest = ok(await h.reviewer.call('list_pending', { limit: 200, cursor: first.next_cursor }));
    expect(rest.messages).toHaveLength(5);
    const all = ok(await h.reviewer.call('list_pending', { limit: 200 }));
    expect(all.messages.map((m: { message_id: string }) => m.message_id)).toEqual(rest.messages.map((m: { message_id: string }) => m.message_id));
  });
});

describe('mail_wait', () => {
  it('times out while the message is still pending, after about timeout_seconds', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'still waiting' });
    const t0 = Date.now();
    const r = ok(await h.agent.call('mail_wait', { message_id: held.message_id, timeout_seconds: 1 }));
    const elapsed = Date.now() - t0;
    expect(r).toMatchObject({ message_id: held.message_id, status: 'pending', timed_out: true, reply: null, reason: null });
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(3000);
    expect(r.waited_seconds).toBeGreaterThanOrEqual(0.9);
  });

  it('sends progress notifications when the client passes onprogress', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'progress please' });
    const progress: Progress[] = [];
    const r = ok(
      await h.agent.call(
        'mail_wait',
        { message_id: held.message_id, timeout_seconds: 3 },
        {
          onprogress: (p) => progress.push(p),
        },
      ),
    );
    expect(r.timed_out).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    for (const p of progress) {
      expect(p.total).toBe(3);
      expect(p.message).toMatch(/pending/);
    }
    const values = progress.map((p) => p.progress);
    expect([...values].sort((x, y) => x - y)).toEqual(values);
    expect(values[0]).toBeGreaterThanOrEqual(1);
  });

  it('returns early when a reviewer rejects during the wait', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'reject me while waiting' });
    const t0 = Date.now();
    const waiting = h.agent.call('mail_wait', { message_id: held.message_id, timeout_seconds: 20 });
    // Reject only once the wait is under way: it has read the status and sleeps on the app's change events.
    await waitFor(() => h.app.changes.listenerCount('change') > 0, 5000, 'mail_wait to be waiting');
    ok(await h.reviewer.call('queue_reject', { message_id: held.message_id, reason: 'not now' }));
    const r = ok(await waiting);
    expect(r).toMatchObject({ status: 'rejected', reason: 'not now', timed_out: false });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('returns early with the reply when the recipient answers during the wait', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'answer me' });
    const waiting = h.agent.call('mail_wait', { message_id: held.message_id, timeout_seconds: 20 });
    ok(await h.reviewer.call('queue_approve', { message_id: held.message_id }));
    const got = ok(await h.agent.call('check_inbox', { mailbox: YOU })).emails.find((e: { subject: string }) => e.subject === 'answer me');
    const reply = ok(await h.agent.call('reply_email', { email_id: got.email_id, text: 'here is my answer' }));
    expect(reply.status).toBe('sent');
    const r = ok(await waiting);
    expect(r).toMatchObject({ status: 'sent', timed_out: false });
    // The reply quotes the original under its text (reply_quote defaults to "quote").
    expect(r.reply).toMatchObject({ from: YOU, subject: 'Re: answer me', text: expect.stringMatching(/^here is my answer\n\nOn .* wrote:\n> Body text/) });
  });

  // A mailbox action gets no reply: once applied, there is nothing more to wait for.
  it('returns at once for a tag action that has been applied', async () => {
    await send(h.agent, { mailbox: YOU, to: AGENT, subject: 'tag target' });
    const email = ok(await h.agent.call('check_inbox', { mailbox: AGENT })).emails.find((e: { subject: string }) => e.subject === 'tag target');
    const tag = ok(await h.agent.call('tag_email', { email_id: email.email_id, add_flags: ['\\Flagged'] }));
    expect(tag.status).toBe('applied');
    const t0 = Date.now();
    const r = ok(await h.agent.call('mail_wait', { message_id: tag.action_id, timeout_seconds: 3 }));
    expect(r.status).toBe('applied');
    expect(r.timed_out).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1500);
  });
});
