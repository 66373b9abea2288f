/**
 * get_thread on sandbox mailboxes, through a real SDK client: a conversation linked by In-Reply-To/References
 * across INBOX and Sent in order, from an email or from the outbound message; the subject fallback for a reply
 * sent without those headers, and none for look-alikes; another mailbox's email refused as an unknown one.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deniedSince, type Harness, inbox, lastSeq, ok, send, startHarness, textOf } from './harness.js';

const ALICE = 'alice@acme.test';
const BOB = 'bob@acme.test';
const CAROL = 'carol@acme.test';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    config: { mailboxes: [ALICE, BOB, CAROL].map((address) => ({ address, oversight_mode: 'autonomous' })) },
  });
});
afterEach(async () => {
  await h?.close();
});

const newest = async (mailbox: string) => (await inbox(h.agent, mailbox))[0]!.email_id as string;
const reply = async (email_id: string, text: string) => ok(await h.agent.call('reply_email', { email_id, text })).message_id as string;
const thread = async (args: Record<string, unknown>) => ok(await h.agent.call('get_thread', args));
const brief = (t: Record<string, any>) => (t.messages as Record<string, any>[]).map((m) => [m.folder, m.direction, m.from, m.subject, m.matched_by]);

/** alice -> bob, bob replies, alice replies to that: three messages, seen from bob's mailbox. */
async function conversation(): Promise<{ first: string; bobReply: string; last: string }> {
  await send(h.agent, { mailbox: ALICE, to: BOB, subject: 'Quote request', text: 'How much for 40 chairs?' });
  const first = await newest(BOB);
  const bobReply = await reply(first, 'EUR 2,400 delivered.');
  await reply(await newest(ALICE), 'Agreed, please invoice.');
  return { first, bobReply, last: await newest(BOB) };
}

describe('get_thread on a sandbox mailbox', () => {
  it('lists the three messages across INBOX and Sent in order, from any of them', async () => {
    const { first, bobReply, last } = await conversation();
    // Unrelated mail in the same mailbox stays out.
    await send(h.agent, { mailbox: CAROL, to: BOB, subject: 'Lunch?', text: 'Friday?' });
    const expected = [
      ['INBOX', 'inbound', ALICE, 'Quote request', 'start'],
      ['Sent', 'outbound', BOB, 'Re: Quote request', 'headers'],
      ['INBOX', 'inbound', ALICE, 'Re: Quote request', 'headers'],
    ];
    const fromFirst = await thread({ email_id: first });
    expect(brief(fromFirst)).toEqual(expected);
    expect(fromFirst).toMatchObject({ mailbox: BOB, total: 3, untrusted_content: true });
    expect(fromFirst.messages[1]).toMatchObject({
      message_id: bobReply,
      to: [ALICE],
      snippet: expect.stringMatching(/^EUR 2,400 delivered\. On .* wrote: > How much/),
    });
    expect(fromFirst.messages[2]).toMatchObject({
      id: last,
      email_id: last,
      snippet: expect.stringMatching(/^Agreed, please invoice\. On .* wrote: > EUR 2,400/),
    });
    const dates = fromFirst.messages.map((m: { date: string }) => m.date);
    expect(dates).toEqual([...dates].sort());

    const fromLast = await thread({ email_id: last });
    expect(fromLast.messages.map((m: { id: string }) => m.id)).toEqual(fromFirst.messages.map((m: { id: string }) => m.id));
    const fromMessage = await thread({ message_id: bobReply });
    expect(fromMessage.messages.map((m: { id: string }) => m.id)).toEqual(fromFirst.messages.map((m: { id: string }) => m.id));
    expect(fromMessage.messages[1].matched_by).toBe('start');

    const limited = await thread({ email_id: first, limit: 2 });
    expect(limited).toMatchObject({ total: 3 });
    expect(limited.messages.map((m: { id: string }) => m.id)).toEqual(fromFirst.messages.slice(1).map((m: { id: string }) => m.id));
  });

  it('joins a reply sent without In-Reply-To/References by its subject, and no look-alike', async () => {
    await send(h.agent, { mailbox: ALICE, to: BOB, subject: 'Invoice 1142', text: 'Attached is invoice 1142.' });
    const first = await newest(BOB);
    // Bob answers from a client that drops the threading headers: a new message with a Re: subject.
    await send(h.agent, { mailbox: BOB, to: ALICE, subject: 'RE: Invoice 1142', text: 'Paid today.' });
    // Look-alikes stay out: a later original of the same subject (with alice in copy), a reply to it whose headers
    // point there, and the same subject between people of no part in the thread.
    await send(h.agent, { mailbox: CAROL, to: [BOB, ALICE], subject: 'Invoice 1142', text: 'A different 1142.' });
    ok(await h.agent.call('reply_email', { email_id: await newest(BOB), text: 'Which one?', reply_all: true }));
    await send(h.agent, { mailbox: CAROL, to: BOB, subject: 'Re: Invoice 1142', text: 'Only between us.' });
    const t = await thread({ email_id: first });
    expect(brief(t)).toEqual([
      ['INBOX', 'inbound', ALICE, 'Invoice 1142', 'start'],
      ['Sent', 'outbound', BOB, 'RE: Invoice 1142', 'subject'],
    ]);
    // From the headerless reply, the original is found the same way.
    const headerless = (await inbox(h.agent, ALICE)).find((e) => e.subject === 'RE: Invoice 1142')!;
    const reverse = await thread({ email_id: headerless.email_id });
    expect(reverse.mailbox).toBe(ALICE);
    expect(brief(reverse)).toEqual([
      ['Sent', 'outbound', ALICE, 'Invoice 1142', 'subject'],
      ['INBOX', 'inbound', BOB, 'RE: Invoice 1142', 'start'],
    ]);
  });

  it('needs exactly one start, and refuses another mailbox’s email and message exactly as unknown ones', async () => {
    const { first, bobReply } = await conversation();
    expect(textOf(await h.agent.call('get_thread', {}))).toMatch(/INVALID_INPUT: email_id: give exactly one of email_id/);
    expect(textOf(await h.agent.call('get_thread', { email_id: first, message_id: bobReply }))).toMatch(/INVALID_INPUT: email_id/);
    const carol = await h.connect(['agent'], 'carol-agent', [CAROL]);
    const seq = await lastSeq(h.app);
    for (const [key, foreign, unknown] of [
      ['email_id', first, 'em_AAAAAAAAAAAAAAAAAAAA'],
      ['message_id', bobReply, 'msg_AAAAAAAAAAAAAAAAAAAA'],
    ] as const) {
      const a = await carol.call('get_thread', { [key]: foreign });
      const b = await carol.call('get_thread', { [key]: unknown });
      expect(a.isError).toBe(true);
      expect(textOf(a).replace(foreign, 'X')).toBe(textOf(b).replace(unknown, 'X'));
    }
    expect((await deniedSince(h.app, seq)).map((e) => e.mailbox)).toEqual([BOB, BOB]);
  });
});
