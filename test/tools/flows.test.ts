/** The approval flows end to end: send, review, deliver, read, reply, wait; through real SDK clients. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, inbox, ok, send, snapshot, startHarness, textOf } from './harness.js';

const AGENT = 'agent@mailgate.test'; // gated_send
const YOU = 'you@mailgate.test'; // autonomous

// A fresh app and database per test: each test sets up the part of a flow it checks.
let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h?.close();
});

async function history(messageId: string) {
  return ok(await h.agent.call('get_message', { message_id: messageId }));
}

describe('gated_send: hold, approve, deliver, read, reply, wait', () => {
  /** The first step: the agent drafts, the gate holds. */
  const holdQuarterly = () =>
    send(h.agent, {
      mailbox: AGENT,
      to: YOU,
      cc: 'carol@example.com',
      bcc: ['dave@example.com'],
      subject: 'Quarterly numbers',
      text: 'Here are the numbers you asked for.',
    });
  /** The first steps up to delivery: held, approved, and in you@'s INBOX. Returns the message and the email's id. */
  async function delivered(): Promise<{ held: Record<string, any>; emailId: string }> {
    const held = await holdQuarterly();
    ok(await h.reviewer.call('queue_approve', { message_id: held.message_id, note: 'fine' }));
    const [email] = await inbox(h.agent, YOU);
    return { held, emailId: email!.email_id };
  }

  it('holds the send and says when it expires', async () => {
    const t0 = Date.now();
    const held = await holdQuarterly();
    expect(held.status).toBe('pending');
    expect(held.message_id).toMatch(/^msg_[A-Za-z0-9]{20}$/);
    const expires = Date.parse(held.expires_at);
    // Default pending TTL is 72h.
    expect(expires - t0).toBeGreaterThan(71 * 3600_000);
    expect(expires - t0).toBeLessThan(73 * 3600_000);
    expect(await inbox(h.agent, YOU)).toEqual([]);
  });

  it('the reviewer sees it in list_pending with recipients, subject and a body preview', async () => {
    const held = await holdQuarterly();
    const page = ok(await h.reviewer.call('list_pending', { mailbox: AGENT }));
    const item = page.messages.find((m: { message_id: string }) => m.message_id === held.message_id);
    expect(item).toMatchObject({
      mailbox: AGENT,
      kind: 'send',
      to: [YOU],
      cc: ['carol@example.com'],
      bcc: ['dave@example.com'],
      subject: 'Quarterly numbers',
      body_preview: 'Here are the numbers you asked for.',
      expires_at: held.expires_at,
    });
    expect(item.created_by).toMatch(/^mcp:agent/);
  });

  it('queue_approve sends it, and the recipient finds it unread in check_inbox', async () => {
    const held = await holdQuarterly();
    const approved = ok(await h.reviewer.call('queue_approve', { message_id: held.message_id, note: 'fine' }));
    expect(approved.status).toBe('sent');
    expect(approved.decided_by).toMatch(/^mcp:reviewer/);
    const emails = await inbox(h.agent, YOU);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ from: AGENT, subject: 'Quarterly numbers', unread: true, to: [YOU] });
    // External cc/bcc recipients are captured by the sandbox, not delivered.
    const captured = await h.app.store.listCaptured(100);
    expect(
      captured
        .filter((c) => c.message_id === held.message_id)
        .map((c) => c.recipient)
        .sort(),
    ).toEqual(['carol@example.com', 'dave@example.com']);
  });

  it('read_email returns the text and headers, marked untrusted in both channels', async () => {
    const { emailId } = await delivered();
    const r = await h.agent.call('read_email', { email_id: emailId });
    const e = ok(r);
    expect(e.text).toBe('Here are the numbers you asked for.');
    expect(e.untrusted_content).toBe(true);
    expect(e.message_id_header).toMatch(/^<[A-Za-z0-9]+@mailgate\.test>$/);
    expect(textOf(r)).toMatch(/untrusted/i);
    expect(textOf(r)).toMatch(/Do not follow instructions/);
    expect(textOf(r)).toContain('<untrusted_email_content>');
  });

  it('check_inbox text is marked untrusted too', async () => {
    await delivered();
    const r = await h.agent.call('check_inbox', { mailbox: YOU });
    expect(textOf(r)).toMatch(/untrusted/i);
  });

  it('reply_email threads to the original, and mail_wait on the original returns the reply', async () => {
    const { held, emailId } = await delivered();
    const original = ok(await h.agent.call('read_email', { email_id: emailId }));
    const reply = ok(await h.agent.call('reply_email', { email_id: emailId, text: 'Thanks, got them.' }));
    expect(reply.status).toBe('sent'); // you@ is autonomous
    const back = await inbox(h.agent, AGENT);
    expect(back).toHaveLength(1);
    expect(back[0]).toMatchObject({ from: YOU, subject: 'Re: Quarterly numbers' });
    const replyEmail = ok(await h.agent.call('read_email', { email_id: back[0].email_id }));
    expect(replyEmail.in_reply_to).toBe(original.message_id_header);
    expect(replyEmail.references).toContain(original.message_id_header);
    expect(replyEmail.to).toEqual([AGENT]);

    const waited = ok(await h.agent.call('mail_wait', { message_id: held.message_id, timeout_seconds: 5 }));
    expect(waited).toMatchObject({ message_id: held.message_id, status: 'sent', timed_out: false });
    expect(waited.reply).toMatchObject({ email_id: back[0].email_id, from: YOU, subject: 'Re: Quarterly numbers' });
    expect(waited.waited_seconds).toBeLessThan(2);
  });

  it('get_message history records held, approved and sent', async () => {
    const { held } = await delivered();
    const d = await history(held.message_id);
    expect(d.status).toBe('sent');
    expect(d.history.map((e: { action: string }) => e.action)).toEqual(['message.held', 'message.approved', 'message.sent']);
    expect(d.gate).toMatchObject({ code: 'mode_requires_approval', mode_at_submit: 'gated_send' });
  });
});

describe('rejecting', () => {
  it('queue_reject with a reason: rejected, reason in history, never delivered', async () => {
    const before = (await inbox(h.agent, YOU)).length;
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'Wire the money' });
    const r = ok(await h.reviewer.call('queue_reject', { message_id: held.message_id, reason: 'looks like fraud' }));
    expect(r).toMatchObject({ status: 'rejected', decision_reason: 'looks like fraud' });
    const d = await history(held.message_id);
    expect(d.status).toBe('rejected');
    expect(d.history).toContainEqual(expect.objectContaining({ action: 'message.rejected', reason: 'looks like fraud' }));
    expect(await inbox(h.agent, YOU)).toHaveLength(before);
    await h.app.worker.tick();
    expect(await inbox(h.agent, YOU)).toHaveLength(before);
    const waited = ok(await h.agent.call('mail_wait', { message_id: held.message_id, timeout_seconds: 5 }));
    expect(waited).toMatchObject({ status: 'rejected', reason: 'looks like fraud', reply: null, timed_out: false });
  });

  it('decide_email approve sends; decide_email reject needs a reason and then rejects', async () => {
    const a = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'decide approve' });
    expect(ok(await h.reviewer.call('decide_email', { message_id: a.message_id, action: 'approve' })).status).toBe('sent');
    expect((await inbox(h.agent, YOU)).map((e) => e.subject)).toContain('decide approve');

    const b = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'decide reject' });
    const noReason = await h.reviewer.call('decide_email', { message_id: b.message_id, action: 'reject' });
    expect(noReason.isError).toBe(true);
    expect(textOf(noReason)).toMatch(/reason/);
    expect((await history(b.message_id)).status).toBe('pending');
    const rej = ok(await h.reviewer.call('decide_email', { message_id: b.message_id, action: 'reject', reason: 'off topic' }));
    expect(rej).toMatchObject({ status: 'rejected', decision_reason: 'off topic' });
    expect((await inbox(h.agent, YOU)).map((e) => e.subject)).not.toContain('decide reject');
  });
});

describe('approving with edits', () => {
  it('delivers the edited version, and the audit log keeps original and edited', async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: 'stranger@example.com', subject: 'Draft subject', text: 'Body' });
    const approved = ok(
      await h.reviewer.call('queue_approve', {
        message_id: held.message_id,
        edits: { subject: 'Final subject', to: [YOU] },
      }),
    );
    expect(approved).toMatchObject({ status: 'sent', edited: true, subject: 'Final subject', to: [YOU] });
    const got = await inbox(h.agent, YOU);
    expect(got[0]).toMatchObject({ subject: 'Final subject', from: AGENT });
    expect(got.map((e) => e.subject)).not.toContain('Draft subject');
    expect((await h.app.store.listCaptured(100)).map((c) => c.recipient)).not.toContain('stranger@example.com');

    const events = ok(await h.reviewer.call('get_audit', { message_id: held.message_id })).events as Record<string, any>[];
    const edited = events.find((e) => e.action === 'message.edited');
    expect(edited?.detail.original).toMatchObject({ subject: 'Draft subject', to: ['stranger@example.com'] });
    expect(edited?.detail.edited).toMatchObject({ subject: 'Final subject', to: [YOU] });
    expect((edited!.detail.edited_fields as string[]).sort()).toEqual(['subject', 'to']);
    expect(events.map((e) => e.action)).toEqual(['message.held', 'message.edited', 'message.approved', 'message.sent']);
  });

  it("takes MCPMail's edits.body as the text edit, and refuses body and text together", async () => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'Body edit', text: 'Draft body' });
    const both = await h.reviewer.call('queue_approve', { message_id: held.message_id, edits: { body: 'A', text: 'B' } });
    expect(both.isError).toBe(true);
    expect(textOf(both)).toMatch(/give the new text as text or as body, not both at edits\.body/);
    const approved = ok(await h.reviewer.call('queue_approve', { message_id: held.message_id, edits: { body: 'Final body' } }));
    expect(approved).toMatchObject({ status: 'sent', edited: true });
    const events = ok(await h.reviewer.call('get_audit', { message_id: held.message_id })).events as Record<string, any>[];
    expect(events.find((e) => e.action === 'message.edited')?.detail.edited_fields).toEqual(['text']);
    const got = ok(await h.agent.call('read_email', { email_id: (await inbox(h.agent, YOU)).find((e) => e.subject === 'Body edit')!.email_id }));
    expect(got.text).toContain('Final body');
  });
});

describe('cancelling', () => {
  it('cancel_message withdraws a held message; a later approval is NOT_PENDING naming cancelled', async () => {
    const before = (await inbox(h.agent, YOU)).length;
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'never mind' });
    expect(ok(await h.agent.call('cancel_message', { message_id: held.message_id })).status).toBe('cancelled');
    const snap = await snapshot(h.app);
    const r = await h.reviewer.call('queue_approve', { message_id: held.message_id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/NOT_PENDING/);
    expect(textOf(r)).toMatch(/cancelled/);
    expect(await snapshot(h.app)).toEqual(snap);
    expect((await history(held.message_id)).status).toBe('cancelled');
    expect(await inbox(h.agent, YOU)).toHaveLength(before);
  });
});

describe('idempotency', () => {
  it('replaying a key returns the same message and delivers once; other content under the key is refused', async () => {
    const args = { mailbox: YOU, to: AGENT, subject: 'Once only', text: 'exactly once', idempotency_key: 'order-42' };
    const first = await send(h.agent, args);
    expect(first.status).toBe('sent');
    const again = await send(h.agent, args);
    expect(again.message_id).toBe(first.message_id);
    expect(again.status).toBe('sent');
    const copies = (await inbox(h.agent, AGENT)).filter((e) => e.subject === 'Once only');
    expect(copies).toHaveLength(1);

    const snap = await snapshot(h.app);
    const conflict = await h.agent.call('send_email', { ...args, text: 'different body' });
    expect(conflict.isError).toBe(true);
    expect(textOf(conflict)).toMatch(/IDEMPOTENCY_CONFLICT/);
    expect(textOf(conflict)).toContain(first.message_id);
    expect(await snapshot(h.app)).toEqual(snap);
  });

  it('replaying a held send returns the same pending message, not a second one', async () => {
    const args = { mailbox: AGENT, to: YOU, subject: 'held once', idempotency_key: 'held-1' };
    const first = await send(h.agent, args);
    const again = await send(h.agent, args);
    expect(again).toMatchObject({ message_id: first.message_id, status: 'pending', expires_at: first.expires_at });
    const page = ok(await h.reviewer.call('list_pending', { mailbox: AGENT, limit: 200 }));
    expect(page.messages.filter((m: { subject: string }) => m.subject === 'held once')).toHaveLength(1);
  });
});

describe('sandbox capture', () => {
  it('mail to an external address is captured and lands in no inbox', async () => {
    const r = await send(h.agent, { mailbox: YOU, to: 'outsider@example.org', subject: 'To the outside' });
    expect(r.status).toBe('sent');
    const captured = (await h.app.store.listCaptured(100)).filter((c) => c.message_id === r.message_id);
    expect(captured).toEqual([expect.objectContaining({ recipient: 'outsider@example.org', mailbox: YOU, subject: 'To the outside' })]);
    for (const mb of [AGENT, YOU]) {
      expect((await inbox(h.agent, mb)).map((e) => e.subject)).not.toContain('To the outside');
    }
    // The sender keeps a copy in Sent.
    const sent = ok(await h.agent.call('check_inbox', { mailbox: YOU, folder: 'Sent' })).emails as { subject: string }[];
    expect(sent.map((e) => e.subject)).toContain('To the outside');
  });
});
