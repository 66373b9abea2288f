/**
 * forward_email on a real mailbox through a spawned `mailgate serve` and the private Dovecot/Postfix: a message
 * with a PDF forwarded inline (autonomous mailbox: delivered through Postfix), and forwarded as an attachment,
 * which carries the original's exact source from the server. The recipient's copy is read with a plain IMAP client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, ok, type ServerHandle } from './harness.js';
import { closeAllReal, eventually, imapAs, serverFolder, startRealServer, writeRealConfig } from './real-harness.js';

const PDF = Buffer.from(`%PDF-1.4\n${'x'.repeat(3000)}\n%%EOF\n`);
const ORIGINAL = [
  'From: frank@example.org',
  'To: alice@mailgate.test',
  'Subject: Contract draft',
  'Message-ID: <contract-draft@example.org>',
  'X-Original-Marker: kept-exactly',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Please sign page 3.',
  '--b1',
  'Content-Type: application/pdf; name="contract.pdf"',
  'Content-Disposition: attachment; filename="contract.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  ...PDF.toString('base64').match(/.{1,76}/g)!,
  '--b1--',
  '',
].join('\r\n');

describe.skipIf(!requireMailServersOrSkip())('forward_email on real mail', () => {
  const tmp = tempDir('mailgate-real-forward-');
  let mail: MailServers;
  let alice: MailUser;
  let bob: MailUser;
  let agent: ServerHandle;
  let emailId: string;

  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['alice', 'bob'] });
    [alice, bob] = mail.users as [MailUser, MailUser];
    await mail.deliver(ORIGINAL, alice.address);
    const config = writeRealConfig(tmp.file('mailgate.json'), mail, [{ user: alice, mode: 'autonomous' }]);
    agent = await startRealServer({ role: 'agent', db: tmp.file('forward.db'), home: tmp.path, config });
    emailId = await eventually(
      async () => ok<{ emails: { email_id: string }[] }>(await agent.call('check_inbox', { mailbox: alice.address })).emails[0]?.email_id,
      10_000,
      'the original in INBOX',
    );
  });
  afterAll(async () => {
    await closeAllReal();
    await mail?.stop();
    tmp.cleanup();
  });

  const bobsCopy = async (subject: string) => {
    const client = await imapAs(mail, bob);
    try {
      return await eventually(async () => (await serverFolder(client, 'INBOX')).find((m) => m.subject === subject), 15_000, `${subject} at bob`);
    } finally {
      await client.logout();
    }
  };

  it('inline, with the PDF: bob gets the note, the original text and the same PDF bytes', async () => {
    const r = ok<{ status: string }>(await agent.call('forward_email', { email_id: emailId, to: bob.address, note: 'For your signature' }));
    expect(r.status).toBe('sent');
    const parsed = await simpleParser((await bobsCopy('Fwd: Contract draft')).source);
    expect(parsed.text).toMatch(/^For your signature\n\n---------- Forwarded message ---------\nFrom: frank@example\.org/);
    expect(parsed.text).toContain('Please sign page 3.');
    expect(parsed.attachments.map((a) => [a.filename, a.contentType])).toEqual([['contract.pdf', 'application/pdf']]);
    expect(parsed.attachments[0]!.content.equals(PDF)).toBe(true);
  });

  it("as attachment: the original's source from the server, headers and all", async () => {
    const r = ok<{ status: string }>(await agent.call('forward_email', { email_id: emailId, to: bob.address, as: 'attachment', idempotency_key: 'fwd-eml' }));
    expect(r.status).toBe('sent');
    const copies = await eventually(
      async () => {
        const client = await imapAs(mail, bob);
        try {
          const all = (await serverFolder(client, 'INBOX')).filter((m) => m.subject === 'Fwd: Contract draft');
          return all.length === 2 ? all : undefined;
        } finally {
          await client.logout();
        }
      },
      15_000,
      'both forwards at bob',
    );
    // Read as bytes: a mail parser would unfold the attached message into the outer one.
    const outer = copies.map((c) => c.source).find((s) => /Content-Type: message\/rfc822/i.test(s))!;
    expect(outer).toMatch(/filename="?Contract draft\.eml"?/);
    const inner = outer.slice(outer.search(/Content-Type: message\/rfc822/i));
    expect(inner).toContain('X-Original-Marker: kept-exactly');
    expect(inner).toContain('Please sign page 3.');
  });
});
