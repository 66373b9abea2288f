/**
 * The acceptance scenario against the private Dovecot + Postfix: an agent process and a reviewer process
 * (`mailgate serve`, real SDK stdio clients) on one database, alice@ gated_send and bob@ autonomous as real
 * IMAP/SMTP mailboxes. What arrives is checked on the servers with the users' own IMAP logins.
 */
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, holdsFor, inbox, ok, type ServerHandle, waitForStatus } from './harness.js';
import {
  closeAllReal,
  dbAll,
  eventually,
  header,
  imapAs,
  messageIdHeaderOf,
  serverFolder,
  startRealServer,
  submitAs,
  writeRealConfig,
} from './real-harness.js';

interface Reply {
  email_id: string;
  from: string;
  subject: string;
  text: string;
  text_length: number;
  next_offset: number | null;
}
/** Longer than the part mail_wait returns (4,000 characters), one line so text conversion keeps it as it is. */
const LONG_REPLY = Array.from({ length: 700 }, (_, i) => `word${i}`).join(' ');

interface WaitResult {
  status: string;
  reply: Reply | null;
  timed_out: boolean;
  waited_seconds: number;
}

describe.skipIf(!requireMailServersOrSkip())('gated send, review and replies through Dovecot and Postfix', () => {
  const tmp = tempDir('mailgate-real-accept-');
  const db = tmp.file('shared.db');
  let mail: MailServers;
  let alice: MailUser;
  let bob: MailUser;
  let agent: ServerHandle;
  let reviewer: ServerHandle;
  let aliceImap: ImapFlow;
  let bobImap: ImapFlow;

  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['alice', 'bob'] });
    [alice, bob] = mail.users as [MailUser, MailUser];
    const config = writeRealConfig(tmp.file('mailgate.json'), mail, [
      { user: alice, mode: 'gated_send' },
      { user: bob, mode: 'autonomous' },
    ]);
    // Sequential start: the first process creates the schema and the mailboxes.
    agent = await startRealServer({ role: 'agent', db, home: tmp.path, config });
    reviewer = await startRealServer({ role: 'reviewer', db, home: tmp.path, config });
    aliceImap = await imapAs(mail, alice);
    bobImap = await imapAs(mail, bob);
  }, 60_000);

  afterAll(async () => {
    await aliceImap?.logout().catch(() => undefined);
    await bobImap?.logout().catch(() => undefined);
    await closeAllReal();
    await mail?.stop();
    tmp.cleanup();
  });

  const copies = async (client: ImapFlow, folder: string, messageId: string) => (await serverFolder(client, folder)).filter((m) => m.messageId === messageId);

  async function sendHeld(subject: string): Promise<{ message_id: string; header: string }> {
    const r = ok<{ message_id: string; status: string }>(
      await agent.call('send_email', {
        mailbox: alice.address,
        to: [bob.address],
        subject,
        text: `Hello Bob,\n\nthis is "${subject}".\n\nAlice`,
      }),
    );
    expect(r.status).toBe('pending');
    return { message_id: r.message_id, header: messageIdHeaderOf(db, r.message_id) };
  }

  /** A held send from alice, approved and listed in bob's INBOX by the agent's server: what a reply test answers. */
  async function deliveredToBob(subject: string): Promise<{ message_id: string; header: string; subject: string; email_id: string }> {
    const sent = await sendHeld(subject);
    ok(await reviewer.call('queue_approve', { message_id: sent.message_id }));
    await waitForStatus(agent, sent.message_id, ['sent']);
    // The agent's cache of bob's INBOX follows the server once IDLE reports the delivery.
    const received = await eventually(
      async () => (await inbox(agent, bob.address)).find((e) => e.subject === subject),
      10_000,
      "the approved mail in bob's INBOX as the agent lists it",
    );
    return { ...sent, subject, email_id: received.email_id };
  }

  it("holds the send, and after approval it arrives in bob's INBOX exactly once with a copy in alice's Sent", async () => {
    const subject = `Quarterly report ${Date.now()}`;
    const sent = await sendHeld(subject);
    expect(sent.header).toMatch(/^<[^@>]+@mailgate\.test>$/);

    // Three delivery polls of each process (200 ms): nothing may leave while it is held.
    await holdsFor(async () => (await copies(bobImap, 'INBOX', sent.header)).length === 0, 600, "nothing in bob's INBOX while held");
    expect((await serverFolder(bobImap, 'INBOX')).filter((m) => m.subject === subject)).toHaveLength(0);

    const approvedAt = Date.now();
    const approved = ok<{ status: string; decided_by: string }>(await reviewer.call('queue_approve', { message_id: sent.message_id, note: 'ok' }));
    expect(['approved', 'sending', 'sent']).toContain(approved.status);
    expect(approved.decided_by).toMatch(/^mcp:reviewer/);
    await eventually(async () => ((await copies(bobImap, 'INBOX', sent.header)).length > 0 ? true : undefined), 5000, "the approved mail in bob's INBOX");
    process.stderr.write(`[real-acceptance] approval -> in bob's INBOX on the server: ${Date.now() - approvedAt} ms\n`);
    await waitForStatus(agent, sent.message_id, ['sent']);

    // Both processes' delivery workers poll many times meanwhile: still one copy each.
    await holdsFor(async () => (await copies(bobImap, 'INBOX', sent.header)).length === 1, 1500, "one copy in bob's INBOX");
    const inBob = await copies(bobImap, 'INBOX', sent.header);
    expect(inBob).toHaveLength(1);
    expect(header(inBob[0]!.source, 'From')).toContain(alice.address);
    expect(header(inBob[0]!.source, 'Subject')).toBe(subject);
    expect((await serverFolder(bobImap, 'INBOX')).filter((m) => m.subject === subject)).toHaveLength(1);
    const inSent = await copies(aliceImap, 'Sent', sent.header);
    expect(inSent).toHaveLength(1);
    expect(inSent[0]!.flags).toContain('\\Seen');
    expect(dbAll(db, "SELECT 1 FROM audit_events WHERE message_id = ? AND action = 'message.sent'", sent.message_id)).toHaveLength(1);

    // bob is a configured mailbox too: the agent's own view of his INBOX agrees.
    const listed = (await inbox(agent, bob.address)).filter((e) => e.subject === subject);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.from).toBe(alice.address);
    const read = ok<{ message_id_header: string; text: string }>(await agent.call('read_email', { email_id: listed[0]!.email_id }));
    expect(read.message_id_header).toBe(sent.header);
    expect(read.text).toContain(`this is "${subject}"`);
  });

  it('never delivers a rejected message', async () => {
    const subject = `Unvetted offer ${Date.now()}`;
    const sent = await sendHeld(subject);
    const rejected = ok<{ status: string; decision_reason: string }>(await reviewer.call('queue_reject', { message_id: sent.message_id, reason: 'off-brand' }));
    expect(rejected).toMatchObject({ status: 'rejected', decision_reason: 'off-brand' });

    // Five delivery polls of each process (200 ms) with nothing sent: a rejected row is never claimable.
    await holdsFor(async () => (await copies(bobImap, 'INBOX', sent.header)).length === 0, 1000, "nothing in bob's INBOX after the rejection");
    expect((await serverFolder(bobImap, 'INBOX')).filter((m) => m.subject === subject)).toHaveLength(0);
    expect(await copies(aliceImap, 'Sent', sent.header)).toHaveLength(0);
    expect((await inbox(agent, bob.address)).filter((e) => e.subject === subject)).toHaveLength(0);
    const detail = ok<{ status: string; sent_at: string | null; attempts: number }>(await agent.call('get_message', { message_id: sent.message_id }));
    expect(detail).toMatchObject({ status: 'rejected', sent_at: null, attempts: 0 });
  });

  it("threads bob's reply_email for alice's mail client, and mail_wait returns it moments after delivery", async () => {
    const original = await deliveredToBob(`To be answered ${Date.now()}`);

    // mail_wait first, as an agent would after sending; the reply is sent while it waits. No pause is needed:
    // the server reads its stdin in order, and mail_wait's first look needs no I/O, while the reply needs SMTP.
    const waiting = agent.call('mail_wait', { message_id: original.message_id, timeout_seconds: 20 }).then((r) => ({ r, at: Date.now() }));
    const replied = ok<{ message_id: string; status: string }>(
      await agent.call('reply_email', { email_id: original.email_id, text: 'Thanks, Alice. Looks good. Bob' }),
    );
    const repliedAt = Date.now(); // after SMTP acceptance and the Sent append: the figure below is a lower bound
    expect(replied.status).toBe('sent'); // bob is autonomous
    const { r, at } = await waiting;
    const waited = ok<WaitResult>(r);
    process.stderr.write(`[real-acceptance] reply_email returned -> mail_wait returned: ${at - repliedAt} ms\n`);
    expect(waited.timed_out).toBe(false);
    expect(waited.status).toBe('sent');
    // The reply's text, not a summary: its body was fetched although the sync cached only its envelope.
    expect(waited.reply).toMatchObject({ from: bob.address, subject: `Re: ${original.subject}`, next_offset: null });
    expect(waited.reply!.text).toContain('Thanks, Alice. Looks good. Bob');
    expect(at - repliedAt).toBeLessThan(5000);

    // The headers alice's client threads on (RFC 5322 §3.6.4), as stored by Dovecot.
    const replyHeader = messageIdHeaderOf(db, replied.message_id);
    const inAlice = await copies(aliceImap, 'INBOX', replyHeader);
    expect(inAlice).toHaveLength(1);
    const src = inAlice[0]!.source;
    expect(header(src, 'In-Reply-To')).toBe(original.header);
    expect(header(src, 'References')?.split(/\s+/)).toContain(original.header);
    expect(header(src, 'Subject')).toBe(`Re: ${original.subject}`);
    expect(header(src, 'To')).toContain(alice.address);
    expect(await copies(bobImap, 'Sent', replyHeader)).toHaveLength(1);

    // The reply mail_wait named is the one in alice's INBOX.
    const read = ok<{ message_id_header: string; in_reply_to: string; references: string[] }>(
      await agent.call('read_email', { email_id: waited.reply!.email_id }),
    );
    expect(read).toMatchObject({ message_id_header: replyHeader, in_reply_to: original.header });
    expect(read.references).toContain(original.header);
  });

  it('mail_wait sees a reply from an outside mail client within a second or two of its SMTP acceptance', async () => {
    const latencies: number[] = [];
    for (let round = 1; round <= 3; round++) {
      const subject = `Latency round ${round} ${Date.now()}`;
      const sent = await sendHeld(subject);
      ok(await reviewer.call('queue_approve', { message_id: sent.message_id }));
      await waitForStatus(agent, sent.message_id, ['sent']);

      // mail_wait is on the server's stdin before bob's reply is even submitted (see above).
      const waiting = agent.call('mail_wait', { message_id: sent.message_id, timeout_seconds: 20 }).then((r) => ({ r, at: Date.now() }));
      // bob answers from his own client (nodemailer through Postfix submission), threading by hand.
      const reply = await submitAs(mail, bob, {
        to: alice.address,
        subject: `Re: ${subject}`,
        // The first round's reply is long: mail_wait gives its first part, read_email the rest from next_offset.
        text: round === 1 ? LONG_REPLY : 'Got it.',
        inReplyTo: sent.header,
        references: [sent.header],
      });
      const { r, at } = await waiting;
      const waited = ok<WaitResult>(r);
      expect(waited.timed_out).toBe(false);
      expect(waited.reply).toMatchObject({ from: bob.address, subject: `Re: ${subject}` });
      expect(waited.reply!.email_id).toMatch(/^em_/);
      if (round === 1) {
        expect(waited.reply!.text_length).toBeGreaterThan(waited.reply!.text.length);
        expect(LONG_REPLY.startsWith(waited.reply!.text)).toBe(true);
        const rest = ok<{ text: string; next_offset: number | null }>(
          await agent.call('read_email', { email_id: waited.reply!.email_id, offset: waited.reply!.next_offset }),
        );
        expect(waited.reply!.text + rest.text).toBe(LONG_REPLY);
      } else expect(waited.reply).toMatchObject({ text: 'Got it.', next_offset: null });
      latencies.push(at - reply.acceptedAt);
      // Exactly one cached row for the reply, however many processes synced alice's INBOX.
      expect(
        dbAll(db, "SELECT email_id FROM emails WHERE mailbox = ? AND folder = 'INBOX' AND message_id_header = ?", alice.address, reply.messageId),
      ).toHaveLength(1);
    }
    process.stderr.write(`[real-acceptance] reply SMTP acceptance -> mail_wait returned: ${latencies.join(' ms, ')} ms\n`);
    for (const ms of latencies) expect(ms).toBeLessThan(5000);
  });
});
