/**
 * reply_email quotes the original under the agent's text ("On <date>, <sender> wrote:" and "> " lines), as the
 * recipient receives it and as the reviewer sees the draft; `quote: false` and the config's reply_quote turn it
 * off; and the References chain grows by the parent's Message-ID each reply (RFC 5322 §3.6.4).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_INPUT } from '../../src/config/schema.js';
import { type Harness, ok, send, startHarness } from './harness.js';

const AGENT = 'agent@mailgate.test';
const YOU = 'you@mailgate.test';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** The agent's INBOX email with this subject (sent by you@, which is autonomous). */
async function inAgentInbox(subject: string, text: string): Promise<{ email_id: string; date: string }> {
  await send(h.agent, { mailbox: YOU, to: AGENT, subject, text });
  return ok(await h.agent.call('check_inbox', { mailbox: AGENT })).emails.find((e: { subject: string }) => e.subject === subject);
}

/** Approves the agent's held reply and returns it as you@ reads it. */
async function deliveredToYou(messageId: string, subject: string): Promise<Record<string, any>> {
  ok(await h.reviewer.call('queue_approve', { message_id: messageId }));
  const got = ok(await h.agent.call('check_inbox', { mailbox: YOU })).emails.find((e: { subject: string }) => e.subject === subject);
  return ok(await h.agent.call('read_email', { email_id: got.email_id }));
}

describe('quoted replies', () => {
  it('quotes the original under the text: the reviewer sees it in the draft and the recipient receives it', async () => {
    h = await startHarness();
    const original = await inAgentInbox('Parcel', 'Where is my parcel?\n\n> my earlier note\nThanks');
    const reply = ok(await h.agent.call('reply_email', { email_id: original.email_id, text: 'It ships today.' }));
    expect(reply.status).toBe('pending');
    const when = new Date(original.date).toUTCString();
    const expected = `It ships today.\n\nOn ${when}, <${YOU}> wrote:\n> Where is my parcel?\n>\n>> my earlier note\n> Thanks\n`;

    const pending = ok(await h.reviewer.call('list_pending', {})).messages.find((m: { message_id: string }) => m.message_id === reply.message_id);
    expect(pending.body_preview).toContain(`wrote: > Where is my parcel?`);

    const received = await deliveredToYou(reply.message_id, 'Re: Parcel');
    expect(received.text.trimEnd()).toBe(expected.trimEnd());
  });

  it('quote: false sends the text alone', async () => {
    h = await startHarness();
    const original = await inAgentInbox('No quote please', 'Original words');
    const reply = ok(await h.agent.call('reply_email', { email_id: original.email_id, text: 'Just this.', quote: false }));
    expect((await deliveredToYou(reply.message_id, 'Re: No quote please')).text).toBe('Just this.');
  });

  it('reply_quote "none" in the config turns quoting off by default, and quote: true still quotes', async () => {
    h = await startHarness({ config: { ...DEFAULT_CONFIG_INPUT, reply_quote: 'none' } });
    const original = await inAgentInbox('Config says none', 'Original words');
    const plain = ok(await h.agent.call('reply_email', { email_id: original.email_id, text: 'Plain.' }));
    expect((await h.app.store.getMessage(plain.message_id))?.text).toBe('Plain.');
    const quoted = ok(await h.agent.call('reply_email', { email_id: original.email_id, text: 'Quoted.', quote: true }));
    expect((await h.app.store.getMessage(quoted.message_id))?.text).toMatch(/^Quoted\.\n\nOn .* wrote:\n> Original words\n$/);
  });

  it("keeps the whole References chain: the parent's References plus its Message-ID (RFC 5322 §3.6.4)", async () => {
    h = await startHarness();
    const first = await inAgentInbox('Chain', 'one');
    const firstHeader = ok(await h.agent.call('read_email', { email_id: first.email_id })).message_id_header;
    const r1 = ok(await h.agent.call('reply_email', { email_id: first.email_id, text: 'two' }));
    const atYou = await deliveredToYou(r1.message_id, 'Re: Chain');
    expect(atYou.references).toEqual([firstHeader]);
    // you@ answers the reply (autonomous: sent at once); the agent's copy names both earlier messages, in order.
    ok(await h.agent.call('reply_email', { email_id: atYou.email_id, text: 'three' }));
    const back = ok(await h.agent.call('check_inbox', { mailbox: AGENT })).emails.find((e: { subject: string }) => e.subject === 'Re: Chain');
    const third = ok(await h.agent.call('read_email', { email_id: back.email_id }));
    expect(third.references).toEqual([firstHeader, atYou.message_id_header]);
    expect(third.in_reply_to).toBe(atYou.message_id_header);
    // Two levels of quoting: the agent's "two" once, you@'s original "one" twice.
    expect(third.text).toMatch(/^three\n\nOn .* wrote:\n> two\n>\n> On .* wrote:\n>> one\n?$/);
  });
});
