/**
 * get_thread on a real mailbox through a spawned `mailgate serve`: a conversation with an outside person on the
 * private Dovecot/Postfix (their mail delivered over LMTP, the agent's reply sent through Postfix and filed in
 * Sent), in order across INBOX and Sent; a message linked only by References, found by SEARCH HEADER; and the
 * subject fallback for mail without threading headers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, ok, type ServerHandle, waitForStatus } from './harness.js';
import { ImapConnection } from '../../src/mail/imap/connection.js';
import { searchThreadUids } from '../../src/mail/imap/threads.js';
import { closeAllReal, eventually, imapAs, messageIdHeaderOf, startRealServer, writeRealConfig } from './real-harness.js';

interface Item {
  id: string;
  email_id: string | null;
  message_id: string | null;
  folder: string | null;
  direction: string;
  from: string;
  subject: string;
  snippet: string;
  matched_by: string;
}

const MIN = 60_000;

describe.skipIf(!requireMailServersOrSkip())('get_thread on real folders', () => {
  const tmp = tempDir('mailgate-real-threads-');
  const db = tmp.file('threads.db');
  let mail: MailServers;
  let alice: MailUser;
  let carol: MailUser;
  let agent: ServerHandle;

  const raw = (o: { from: string; id: string; subject: string; at: number; headers?: string[]; body: string }) =>
    [
      `From: ${o.from}`,
      `To: ${alice.address}`,
      `Subject: ${o.subject}`,
      `Date: ${new Date(o.at).toUTCString()}`,
      `Message-ID: <${o.id}@example.org>`,
      ...(o.headers ?? []),
      'Content-Type: text/plain; charset=utf-8',
      '',
      o.body,
    ].join('\r\n');
  /** Subject -> email_id of INBOX once every subject in `want` is there. */
  const inboxIds = async (...want: string[]) =>
    eventually(
      async () => {
        const r = ok<{ emails: { subject: string; email_id: string }[] }>(await agent.call('check_inbox', { mailbox: alice.address }));
        const ids = new Map(r.emails.map((e) => [e.subject, e.email_id]));
        return want.every((s) => ids.has(s)) ? ids : undefined;
      },
      10_000,
      `${want.join(', ')} in INBOX`,
    );
  const thread = async (args: Record<string, unknown>) => ok<{ mailbox: string; messages: Item[]; total: number }>(await agent.call('get_thread', args));
  const brief = (items: Item[]) => items.map((m) => [m.folder, m.direction, m.subject, m.matched_by]);

  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['alice', 'carol'] });
    [alice, carol] = mail.users as [MailUser, MailUser];
    const config = writeRealConfig(tmp.file('mailgate.json'), mail, [{ user: alice, mode: 'autonomous' }]);
    agent = await startRealServer({ role: 'agent', db, home: tmp.path, config });
  }, 60_000);

  afterAll(async () => {
    await closeAllReal();
    await mail?.stop();
    tmp.cleanup();
  });

  it('follows a conversation across INBOX and Sent in order, including a reply linked only by References', async () => {
    const from = `Carol <${carol.address}>`;
    await mail.deliver(raw({ from, id: 'kickoff', subject: 'Project kickoff', at: Date.now() - 10 * MIN, body: 'Can we start Monday?' }), alice.address);
    const first = (await inboxIds('Project kickoff')).get('Project kickoff')!;
    const sent = ok<{ message_id: string }>(await agent.call('reply_email', { email_id: first, text: 'Monday works.' })).message_id;
    await waitForStatus(agent, sent, ['sent']);
    const ours = messageIdHeaderOf(db, sent);
    await mail.deliver(
      raw({
        from,
        id: 'answer',
        subject: 'Re: Project kickoff',
        at: Date.now() + MIN,
        headers: [`In-Reply-To: ${ours}`, `References: <kickoff@example.org> ${ours}`],
        body: 'Great, see you then.',
      }),
      alice.address,
    );
    // A forward that names the thread in References only: the envelope shows nothing of it.
    await mail.deliver(
      raw({ from, id: 'fwd', subject: 'Fwd: agenda', at: Date.now() + 2 * MIN, headers: [`References: <kickoff@example.org>`], body: 'Agenda attached.' }),
      alice.address,
    );
    await mail.deliver(raw({ from, id: 'lunch', subject: 'Lunch', at: Date.now() + 3 * MIN, body: 'Lunch?' }), alice.address);

    const expected = [
      ['INBOX', 'inbound', 'Project kickoff', 'start'],
      ['Sent', 'outbound', 'Re: Project kickoff', 'headers'],
      ['INBOX', 'inbound', 'Re: Project kickoff', 'headers'],
      ['INBOX', 'inbound', 'Fwd: agenda', 'headers'],
    ];
    const t = await eventually(
      async () => {
        const r = await thread({ email_id: first });
        return r.messages.length >= expected.length ? r : undefined;
      },
      10_000,
      'the whole thread',
    );
    expect(brief(t.messages)).toEqual(expected);
    expect(t.messages[1]).toMatchObject({
      message_id: sent,
      from: alice.address,
      snippet: expect.stringMatching(/^Monday works\. On .* wrote: > Can we start Monday\?/),
    });
    expect(t.messages[1]!.email_id).toMatch(/^em_/);
    expect(t.messages[3]).toMatchObject({ from: carol.address, snippet: 'Agenda attached.' });

    const fromMessage = await thread({ message_id: sent });
    expect(fromMessage.messages.map((m) => m.id)).toEqual(t.messages.map((m) => m.id));
    const fromLast = await thread({ email_id: t.messages[3]!.id });
    expect(fromLast.messages.map((m) => m.id)).toEqual(t.messages.map((m) => m.id));
  });

  it('joins mail without threading headers by subject and correspondent only', async () => {
    const at = Date.now() - 60 * MIN;
    await mail.deliver(raw({ from: carol.address, id: 'budget', subject: 'Budget 2031', at, body: 'Draft budget.' }), alice.address);
    await mail.deliver(raw({ from: carol.address, id: 'budget-re', subject: 'RE: Budget 2031', at: at + MIN, body: 'Corrected figures.' }), alice.address);
    await mail.deliver(raw({ from: 'dave@example.org', id: 'budget-dave', subject: 'Budget 2031', at: at + 2 * MIN, body: 'Another budget.' }), alice.address);
    const ids = await inboxIds('Budget 2031', 'RE: Budget 2031');
    const t = await thread({ email_id: ids.get('RE: Budget 2031')! });
    expect(brief(t.messages)).toEqual([
      ['INBOX', 'inbound', 'Budget 2031', 'subject'],
      ['INBOX', 'inbound', 'RE: Budget 2031', 'start'],
    ]);
    expect(t.messages[0]!.from).toBe(carol.address);
  });

  it('asks the server for a message linked only by References (SEARCH HEADER), whose envelope shows no link', async () => {
    const own = await imapAs(mail, alice);
    try {
      await own.mailboxCreate('Projects');
      const link = raw({ from: carol.address, id: 'minutes', subject: 'Minutes', at: Date.now(), headers: ['References: <kickoff@example.org>'], body: 'x' });
      const other = raw({ from: carol.address, id: 'other', subject: 'Other', at: Date.now(), headers: ['References: <elsewhere@example.org>'], body: 'y' });
      const linked = await own.append('Projects', link);
      await own.append('Projects', other);
      const conn = new ImapConnection(
        {
          host: mail.imap.host,
          port: mail.imap.port,
          secure: false,
          requireStartTls: false,
          auth: { user: alice.user, pass: alice.password },
          rejectUnauthorized: true,
          ca: undefined,
        },
        alice.address,
      );
      try {
        expect(await searchThreadUids(conn, 'Projects', ['<kickoff@example.org>'])).toEqual([linked ? linked.uid : -1]);
        expect(await searchThreadUids(conn, 'Projects', ['<minutes@example.org>', '<nothing@example.org>'])).toEqual([linked ? linked.uid : -1]);
      } finally {
        await conn.close();
      }
    } finally {
      await own.logout();
    }
  });
});
