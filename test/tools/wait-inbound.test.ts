/**
 * mail_wait for the next inbound email on the sandbox, through a real SDK client: woken by the delivery, filtered
 * by sender and subject, resumed by cursor without repeats; and MCPMail's after_message and total `timeout`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../e2e/harness.js';
import { type Harness, ok, send, startHarness, textOf } from './harness.js';

const AGENT = 'agent@mailgate.test';
const YOU = 'you@mailgate.test';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h?.close();
});

/** you@ (autonomous) mails the agent: delivered into the agent's INBOX during the call. */
const mailAgent = async (subject: string, text = 'Customer text') =>
  expect((await send(h.agent, { mailbox: YOU, to: AGENT, subject, text })).status).toBe('sent');

/** Resolves once a mail_wait is asleep on the app's change events, so what happens next happens during the wait. */
const waiting = () => waitFor(() => h.app.changes.listenerCount('change') > 0, 5000, 'mail_wait to be waiting');

describe('mail_wait for inbound mail', () => {
  it('wakes when the next email arrives and returns it with its text, not mail that was already there', async () => {
    await mailAgent('already here');
    const t0 = Date.now();
    const call = h.agent.call('mail_wait', { mailbox: AGENT, timeout_seconds: 20 });
    await waiting();
    await mailAgent('the next customer email', 'Where is my parcel?');
    const r = ok(await call);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r).toMatchObject({ mailbox: AGENT, timed_out: false, more: false });
    expect(r.email).toMatchObject({ from: YOU, subject: 'the next customer email', text: 'Where is my parcel?', next_offset: null });
    expect(r.resume).toEqual({ mailbox: AGENT, cursor: r.next_cursor, timeout_seconds: 20 });
  });

  it('reports only mail matching from and subject, case-insensitively', async () => {
    const call = h.agent.call('mail_wait', { mailbox: AGENT, subject: 'INVOICE', from: 'YOU@', timeout_seconds: 20 });
    await waiting();
    await mailAgent('newsletter');
    await mailAgent('Invoice 42 overdue');
    const r = ok(await call);
    expect(r.email.subject).toBe('Invoice 42 overdue');

    const other = ok(
      await h.agent.call('mail_wait', { mailbox: AGENT, from: 'someone-else', since: new Date(Date.now() - 60_000).toISOString(), timeout_seconds: 1 }),
    );
    expect(other).toMatchObject({ email: null, timed_out: true });
  });

  it('resumes from next_cursor: each email is reported once, in arrival order, then the wait times out', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    for (const s of ['first', 'second', 'third']) await mailAgent(s);
    const seen: string[] = [];
    let args: Record<string, unknown> = { mailbox: AGENT, since, timeout_seconds: 1 };
    for (let i = 0; i < 3; i++) {
      const r = ok(await h.agent.call('mail_wait', args));
      expect(r.timed_out).toBe(false);
      expect(r.more).toBe(i < 2);
      seen.push(r.email.subject);
      args = { ...r.resume };
    }
    expect(seen).toEqual(['first', 'second', 'third']);
    const t0 = Date.now();
    const last = ok(await h.agent.call('mail_wait', args));
    expect(last).toMatchObject({ email: null, timed_out: true });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);

    // A mail arriving after the timed-out call is still found by the cursor it returned.
    await mailAgent('fourth');
    expect(ok(await h.agent.call('mail_wait', { ...last.resume })).email.subject).toBe('fourth');
  });

  it('refuses a cursor that is not one, or belongs to another mailbox, naming the field', async () => {
    const r = await h.agent.call('mail_wait', { mailbox: AGENT, cursor: 'bogus', timeout_seconds: 1 });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/cursor: not a cursor from mail_wait/);
    const mine = ok(await h.agent.call('mail_wait', { mailbox: AGENT, timeout_seconds: 1 }));
    const other = await h.agent.call('mail_wait', { mailbox: YOU, cursor: mine.next_cursor, timeout_seconds: 1 });
    expect(textOf(other)).toMatch(/cursor: this cursor belongs to mailbox agent@mailgate.test/);
  });
});

describe("mail_wait in MCPMail's vocabulary", () => {
  it('after_message waits on a message as message_id does, and returns the reply', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'answer me' });
    const call = h.agent.call('mail_wait', { after_message: held.message_id, timeout: '10m' });
    ok(await h.reviewer.call('queue_approve', { message_id: held.message_id }));
    const got = ok(await h.agent.call('check_inbox', { mailbox: YOU })).emails.find((e: { subject: string }) => e.subject === 'answer me');
    ok(await h.agent.call('reply_email', { email_id: got.email_id, text: 'my answer', quote: false }));
    const r = ok(await call);
    expect(r).toMatchObject({ message_id: held.message_id, status: 'sent', timed_out: false, resume: null });
    expect(r.reply).toMatchObject({ subject: 'Re: answer me', text: 'my answer' });
  });

  it('timeout "48h" answers within the call bound and hands back the rest of the total to resume with', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'still waiting' });
    const t0 = Date.now();
    const r = ok(await h.agent.call('mail_wait', { after_message: held.message_id, timeout: '48h', timeout_seconds: 1 }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r).toMatchObject({ status: 'pending', timed_out: true });
    expect(r.resume).toEqual({ after_message: held.message_id, timeout: expect.stringMatching(/^47h59m5\ds$/) });
  });

  it('a total shorter than one call ends the wait with it, and then there is nothing to resume', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'short total' });
    const t0 = Date.now();
    const r = ok(await h.agent.call('mail_wait', { message_id: held.message_id, timeout: '1s' }));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r).toMatchObject({ timed_out: true, resume: null });
  });

  it.each([
    [{ timeout: 'forever' }, /timeout: expected a duration/],
    [{ after_message: 'nope' }, /after_message/],
    [{ mailbox: AGENT, message_id: 'msg_abcdefgh' }, /mailbox: give message_id .* or mailbox .*, not both/],
    [{ message_id: 'msg_abcdefgh', subject: 'x' }, /subject: subject filters the wait for inbound mail/],
    [{}, /message_id: give message_id \(or after_message\)/],
  ])('refuses %j with the field named', async (args, message) => {
    const r = await h.agent.call('mail_wait', args);
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(message);
  });
});
