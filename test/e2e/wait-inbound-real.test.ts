/**
 * mail_wait for the next inbound email, and quoted replies, through a spawned `mailgate serve` on the private
 * Dovecot + Postfix: mail delivered over LMTP wakes the wait through the IMAP IDLE watcher (RFC 2177), filters
 * and the cursor hold on real UIDs, and the recipient's server copy of a reply carries the quoted original.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, inbox, ok, type ServerHandle } from './harness.js';
import { closeAllReal, eventually, startRealServer, writeRealConfig } from './real-harness.js';

interface WaitAnswer {
  email: { email_id: string; from: string; subject: string; text: string } | null;
  next_cursor: string;
  more: boolean;
  timed_out: boolean;
  resume: Record<string, unknown> | null;
}

const raw = (from: string, to: string, subject: string, text: string) =>
  [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${Date.now()}-${Math.random().toString(36).slice(2)}@example.org>`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    text,
    '',
  ].join('\r\n');

describe.skipIf(!requireMailServersOrSkip())('mail_wait for inbound mail and quoted replies on Dovecot and Postfix', () => {
  const tmp = tempDir('mailgate-wait-inbound-');
  let mail: MailServers;
  let alice: MailUser;
  let bob: MailUser;
  let agent: ServerHandle;

  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['alice', 'bob'] });
    [alice, bob] = mail.users as [MailUser, MailUser];
    const config = writeRealConfig(tmp.file('mailgate.json'), mail, [
      { user: alice, mode: 'autonomous' },
      { user: bob, mode: 'autonomous' },
    ]);
    agent = await startRealServer({ role: 'agent', db: tmp.file('wait.db'), home: tmp.path, config });
  }, 60_000);

  afterAll(async () => {
    await closeAllReal();
    await mail?.stop();
    tmp.cleanup();
  });

  const wait = async (args: Record<string, unknown>) => ok<WaitAnswer>(await agent.call('mail_wait', args));
  /** Where alice's INBOX stands now: a first call that finds nothing new hands back its cursor. */
  const cursorNow = async (filters: Record<string, unknown> = {}) => (await wait({ mailbox: alice.address, ...filters, timeout_seconds: 1 })).next_cursor;

  it('wakes on an LMTP delivery, skipping mail that does not match from and subject', async () => {
    const filters = { from: 'carol', subject: 'ORDER' };
    const cursor = await cursorNow(filters);
    const t0 = Date.now();
    const waiting = wait({ mailbox: alice.address, ...filters, cursor, timeout_seconds: 20 });
    await mail.deliver(raw('Dave <dave@example.org>', alice.address, 'Order 1 from dave', 'not this one'), alice.address);
    await mail.deliver(raw('Carol Customer <carol@example.org>', alice.address, 'Newsletter', 'nor this'), alice.address);
    await mail.deliver(raw('Carol Customer <carol@example.org>', alice.address, 'Order 7 is late', 'Where is order 7?'), alice.address);
    const delivered = Date.now();
    const r = await waiting;
    // IDLE wakes it: well under the 5 s an unwatched INBOX is polled at.
    expect(Date.now() - delivered).toBeLessThan(3000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.timed_out).toBe(false);
    expect(r.email).toMatchObject({ from: 'carol@example.org', subject: 'Order 7 is late', text: 'Where is order 7?' });
    // Nothing after it yet: the next call from its cursor times out instead of reporting it again.
    expect(await wait({ ...r.resume, timeout_seconds: 1 })).toMatchObject({ email: null, timed_out: true });
  });

  it('resumes from the cursor: two emails delivered together are reported once each, oldest first', async () => {
    let args: Record<string, unknown> = { mailbox: alice.address, cursor: await cursorNow(), timeout_seconds: 20 };
    const tag = Date.now();
    await mail.deliver(raw('erin@example.org', alice.address, `first ${tag}`, 'one'), alice.address);
    await mail.deliver(raw('erin@example.org', alice.address, `second ${tag}`, 'two'), alice.address);
    const seen: string[] = [];
    while (seen.length < 2) {
      const r = await wait(args);
      expect(r.timed_out).toBe(false);
      seen.push(r.email!.subject);
      args = { ...r.resume };
    }
    expect(seen).toEqual([`first ${tag}`, `second ${tag}`]);
    expect(await wait({ ...args, timeout_seconds: 1 })).toMatchObject({ email: null, timed_out: true });
  });

  it("quotes the original in the reply bob's server receives, and quote: false leaves it out", async () => {
    const subject = `Quote me ${Date.now()}`;
    const cursor = await cursorNow({ subject });
    await mail.deliver(raw(`Bob Builder <${bob.address}>`, alice.address, subject, 'Can you fix it?\r\nYes we can.'), alice.address);
    const original = (await wait({ mailbox: alice.address, subject, cursor, timeout_seconds: 20 })).email!;

    for (const quote of [true, false]) {
      const sent = ok<{ status: string }>(await agent.call('reply_email', { email_id: original.email_id, text: `Fixed (${quote}).`, quote }));
      expect(sent.status).toBe('sent');
      const copy = await eventually(
        async () =>
          (await inbox(agent, bob.address)).find((e) => e.subject === `Re: ${subject}` && (e as { snippet?: string }).snippet?.startsWith(`Fixed (${quote})`)),
        10_000,
        "the reply in bob's INBOX",
      );
      const read = ok<{ text: string }>(await agent.call('read_email', { email_id: copy.email_id }));
      if (quote)
        expect(read.text.trimEnd()).toMatch(
          new RegExp(`^Fixed \\(true\\)\\.\\n\\nOn .*, Bob Builder <${bob.address}> wrote:\\n> Can you fix it\\?\\n> Yes we can\\.$`),
        );
      else expect(read.text.trimEnd()).toBe('Fixed (false).');
    }
  });
});
