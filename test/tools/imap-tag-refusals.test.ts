/**
 * tag_email on a real IMAP mailbox (private Dovecot) through a real SDK client and a real SQLite file: what
 * the server refuses is reported as failed with the server's reason (MAIL_REFUSED), audited as
 * message.failed and never as email.tagged, not retried, and the healthy connection is kept. What it
 * accepts is applied, audited as email.tagged with what the server took, and visible in check_inbox at once.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImapMailbox } from '../../src/mail/imap/mailbox.js';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { type Harness, ok, startHarness } from './harness.js';

const raw = (subject: string): string =>
  [
    `From: carol@example.org`,
    'To: someone@mailgate.test',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W/g, '')}@example.org>`,
    '',
    'Hello.',
    '',
  ].join('\r\n');

describe.skipIf(!requireMailServersOrSkip())('tag_email refused by a real IMAP server', () => {
  let mail: MailServers;
  let h: Harness;
  let u: MailUser;
  let own: ImapFlow;

  beforeAll(async () => {
    mail = await startMailServers({ users: ['tagger'] });
    u = mail.users[0]!;
    for (const s of ['Move me nowhere', 'Too long a flag', 'Flag me', 'Hold my flag']) await mail.deliver(raw(s), u.address);
    const server = { host: '127.0.0.1', secure: false, user: u.user, password: u.password };
    h = await startHarness({
      config: {
        mailboxes: [{ address: u.address, oversight_mode: 'autonomous', imap: { ...server, port: mail.imap.port }, smtp: { ...server, port: mail.smtp.port } }],
      },
    });
    own = new ImapFlow({ host: mail.imap.host, port: mail.imap.port, secure: false, auth: { user: u.user, pass: u.password }, logger: false });
    await own.connect();
  });
  afterAll(async () => {
    await own?.logout().catch(() => undefined);
    await h?.close();
    await mail?.stop();
  });

  async function emailId(subject: string): Promise<string> {
    const r = ok(await h.agent.call('check_inbox', { mailbox: u.address }));
    return (r.emails as { email_id: string; subject: string }[]).find((e) => e.subject === subject)!.email_id;
  }

  /** The imapflow client behind the mailbox's command connection (the same object while it stays up). */
  async function liveClient(): Promise<unknown> {
    const mb = (await h.app.store.getMailbox(u.address))!;
    return (h.app.transports.forMailbox(mb).mailbox as ImapMailbox).conn.get();
  }

  async function auditOf(messageId: string): Promise<string[]> {
    return (await h.app.store.audit({ limit: 1000 })).filter((e) => e.message_id === messageId).map((e) => e.action);
  }

  async function serverCopy(subject: string): Promise<{ folder: string; flags: string[] } | undefined> {
    for (const folder of ['INBOX', 'Archive']) {
      const lock = await own.getMailboxLock(folder, { readOnly: true });
      try {
        await own.noop();
        if ((own.mailbox && own.mailbox.exists) === 0) continue;
        for await (const m of own.fetch('1:*', { envelope: true, flags: true }, { uid: true })) {
          if (m.envelope?.subject === subject) return { folder, flags: [...(m.flags ?? [])] };
        }
      } finally {
        lock.release();
      }
    }
    return undefined;
  }

  it("a move to a folder that does not exist fails at once with the server's TRYCREATE, is not retried, and keeps the connection", async () => {
    const id = await emailId('Move me nowhere');
    const before = await liveClient();
    const r = ok(await h.agent.call('tag_email', { email_id: id, add_flags: ['\\Flagged'], move_to: 'Nowhere' }));
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/^MAIL_REFUSED: moving the email to 'Nowhere': \[TRYCREATE\] Mailbox doesn't exist: Nowhere$/);
    const audit = await auditOf(r.action_id);
    expect(audit).toContain('message.failed');
    expect(audit).not.toContain('email.tagged');
    expect(audit).not.toContain('message.retry_scheduled');
    // Not retried: another delivery pass leaves it failed and adds nothing to its history.
    await h.app.worker.tick();
    expect(await h.app.store.getAction(r.action_id)).toMatchObject({ status: 'failed' });
    expect(await auditOf(r.action_id)).toEqual(audit);
    expect(await liveClient()).toBe(before);
    expect(await serverCopy('Move me nowhere')).toMatchObject({ folder: 'INBOX' });
  });

  it('a flag the server refuses (keyword too long, NO [CANNOT]) fails and is never recorded as applied', async () => {
    const id = await emailId('Too long a flag');
    const flag = 'x'.repeat(60); // the tool allows 100 characters; Dovecot allows 50
    const r = ok(await h.agent.call('tag_email', { email_id: id, add_flags: [flag] }));
    expect(r).toMatchObject({ status: 'failed' });
    expect(r.reason).toMatch(/^MAIL_REFUSED: adding x{60}: \[CANNOT\] Keyword length too long$/);
    expect(await auditOf(r.action_id)).not.toContain('email.tagged');
    expect((await serverCopy('Too long a flag'))!.flags).not.toContain(flag);
  });

  it('what the server accepts is applied, audited as email.tagged with what it took, and shown by check_inbox at once', async () => {
    const id = await emailId('Flag me');
    const r = ok(await h.agent.call('tag_email', { email_id: id, add_flags: ['\\Seen'], move_to: 'Archive' }));
    expect(r.status).toBe('applied');
    const tagged = (await h.app.store.audit({ limit: 1000 })).find((e) => e.message_id === r.action_id && e.action === 'email.tagged');
    expect(tagged?.detail).toMatchObject({ result: { added: ['\\Seen'], removed: [], moved_to: 'Archive' } });
    expect(await h.app.store.getAction(r.action_id)).toMatchObject({ status: 'applied', result: { moved_to: 'Archive' } });
    expect(await serverCopy('Flag me')).toMatchObject({ folder: 'Archive', flags: expect.arrayContaining(['\\Seen']) });
    const archive = ok(await h.agent.call('check_inbox', { mailbox: u.address, folder: 'Archive' }));
    expect(archive.emails).toMatchObject([{ subject: 'Flag me', unread: false }]);
  });

  it('in gated_all a tag is held as a mailbox action, then applied on the server once a reviewer approves it', async () => {
    await h.app.store.updateMailbox(u.address, { oversight_mode: 'gated_all' }, 'operator:test', 'hold writes', Date.now());
    const id = await emailId('Hold my flag');
    const r = ok(await h.agent.call('tag_email', { email_id: id, add_flags: ['\\Flagged'] }));
    expect(r).toMatchObject({ status: 'pending', action_id: expect.stringMatching(/^act_/) });
    await h.app.worker.tick();
    expect((await serverCopy('Hold my flag'))!.flags).not.toContain('\\Flagged');
    const approved = ok(await h.reviewer.call('queue_approve', { message_id: r.action_id }));
    expect(approved).toMatchObject({ type: 'action', status: 'applied', action: { email_id: id, add_flags: ['\\Flagged'] } });
    expect((await serverCopy('Hold my flag'))!.flags).toContain('\\Flagged');
    expect(await auditOf(r.action_id)).toEqual(['message.held', 'message.approved', 'email.tagged']);
  });
});
