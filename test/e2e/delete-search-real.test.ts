/**
 * delete_email and search_email's filters through a spawned `mailgate serve` on the private Dovecot: the email
 * lands in the server's \Trash folder or is expunged (checked over the user's own IMAP login), a permanent delete
 * is refused where the policy does not allow it, and filters are answered from the cache and, for a big folder
 * whose older part is not cached yet, by IMAP SEARCH on the server. One user per test.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, ok, type ServerHandle } from './harness.js';
import { closeAllReal, imapAs, serverFolder, startRealServer, writeRealConfig } from './real-harness.js';

const T0 = Date.parse('2030-01-01T10:00:00Z');
const PDF = Buffer.from('%PDF-1.4\n%%EOF\n');

function raw(o: { id: string; from: string; subject: string; day: number; attach?: boolean }): string {
  const head = [`From: ${o.from}`, 'To: team@mailgate.test', `Subject: ${o.subject}`, `Date: ${new Date(T0 + o.day * 86_400_000).toUTCString()}`];
  const body = o.attach
    ? [
        'Content-Type: multipart/mixed; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/plain',
        '',
        'See attached.',
        '--b1',
        'Content-Type: application/pdf; name="a.pdf"',
        'Content-Disposition: attachment; filename="a.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        PDF.toString('base64'),
        '--b1--',
        '',
      ]
    : ['Content-Type: text/plain', '', `Body of ${o.subject}.`];
  return [...head, `Message-ID: <${o.id}@example.org>`, 'MIME-Version: 1.0', ...body].join('\r\n');
}

const SEED = [
  raw({ id: 'a', from: 'Carol <carol@example.org>', subject: 'Quarterly figures', day: 0 }),
  raw({ id: 'b', from: 'dave@example.org', subject: 'Invoice attached', day: 1, attach: true }),
  raw({ id: 'c', from: 'carol@example.org', subject: 'Lunch', day: 2 }),
];
const USERS = ['trash', 'purge', 'keep', 'filters', 'big'] as const;
/** More than the first page a sync caches (FIRST_PAGE, 100): the older part is searched on the server. */
const BIG = 130;

describe.skipIf(!requireMailServersOrSkip())('delete_email and search_email filters on a real server', () => {
  const tmp = tempDir('mailgate-real-delete-');
  const db = tmp.file('delete.db');
  let mail: MailServers;
  let agent: ServerHandle;
  const clients: ImapFlow[] = [];

  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: [...USERS] });
    for (const u of mail.users) for (const m of SEED) await mail.deliver(m, u.address);
    // Set by the user's own client before mailgate starts, so the first sync sees it.
    const own = await ownImap(user('filters'));
    const lock = await own.getMailboxLock('INBOX');
    try {
      expect(await own.messageFlagsAdd({ header: { 'message-id': '<c@example.org>' } }, ['\\Flagged'])).toBe(true);
    } finally {
      lock.release();
    }
    const big = await ownImap(user('big'));
    await big.mailboxCreate('Big');
    for (let i = 0; i < BIG; i++) {
      await big.append('Big', raw({ id: `big-${i}`, from: i === 3 ? 'needle@example.org' : `sender${i}@example.org`, subject: `Item ${i}`, day: i }));
    }
    const path = writeRealConfig(
      tmp.file('mailgate.json'),
      mail,
      mail.users.map((u) => ({ user: u, mode: 'autonomous' as const })),
    );
    // The purge user's mailbox allows permanent delete (an operator's setting, here in the config file).
    const config = JSON.parse(readFileSync(path, 'utf8')) as { mailboxes: { address: string; policy?: unknown }[] };
    config.mailboxes.find((m) => m.address === user('purge').address)!.policy = { allow_permanent_delete: true };
    writeFileSync(path, JSON.stringify(config));
    agent = await startRealServer({ role: 'agent', db, home: tmp.path, config: path });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.logout().catch(() => undefined)));
    await closeAllReal();
    await mail?.stop();
    tmp.cleanup();
  });

  function user(name: (typeof USERS)[number]): MailUser {
    return mail.users.find((u) => u.user.startsWith(`${name}@`))!;
  }
  async function ownImap(u: MailUser): Promise<ImapFlow> {
    const c = await imapAs(mail, u);
    clients.push(c);
    return c;
  }
  const idOf = async (u: MailUser, subject: string) =>
    ok<{ emails: { email_id: string; subject: string }[] }>(await agent.call('check_inbox', { mailbox: u.address })).emails.find((e) => e.subject === subject)!
      .email_id;
  const onServer = async (c: ImapFlow, folder: string) => (await serverFolder(c, folder)).map((m) => m.messageId);
  type Found = { emails: { subject: string }[]; source: string; indexed: number | null; total: number | null; note?: string };
  const search = async (u: MailUser, args: Record<string, unknown>) => ok<Found>(await agent.call('search_email', { mailbox: u.address, ...args }));
  const subjects = (r: Found) => r.emails.map((e) => e.subject).sort();

  it("delete_email moves the email to the server's \\Trash folder", async () => {
    const u = user('trash');
    const r = ok<{ status: string }>(await agent.call('delete_email', { email_id: await idOf(u, 'Lunch') }));
    expect(r.status).toBe('applied');
    const own = await ownImap(u);
    expect(await onServer(own, 'Trash')).toEqual(['<c@example.org>']);
    expect(await onServer(own, 'INBOX')).not.toContain('<c@example.org>');
    // The cache followed before the call returned: check_inbox shows it in Trash, not in INBOX.
    const list = async (folder: string) =>
      ok<{ emails: { subject: string }[] }>(await agent.call('check_inbox', { mailbox: u.address, folder })).emails.map((e) => e.subject);
    expect(await list('Trash')).toEqual(['Lunch']);
    expect(await list('INBOX')).not.toContain('Lunch');
  });

  it('delete_email permanent expunges it where the policy allows, and is refused where it does not', async () => {
    const u = user('purge');
    const r = ok<{ status: string }>(await agent.call('delete_email', { email_id: await idOf(u, 'Lunch'), permanent: true }));
    expect(r.status).toBe('applied');
    const own = await ownImap(u);
    expect(await onServer(own, 'INBOX')).toEqual(['<a@example.org>', '<b@example.org>']);
    expect(await onServer(own, 'Trash')).toEqual([]);
    const inbox = ok<{ emails: { subject: string }[] }>(await agent.call('check_inbox', { mailbox: u.address })).emails;
    expect(inbox.map((e) => e.subject)).toEqual(['Invoice attached', 'Quarterly figures']);

    const k = user('keep');
    const refused = await agent.call('delete_email', { email_id: await idOf(k, 'Lunch'), permanent: true });
    expect(refused.structuredContent).toMatchObject({ status: 'blocked', reason: expect.stringMatching(/allow_permanent_delete/) });
    expect(await onServer(await ownImap(k), 'INBOX')).toContain('<c@example.org>');
  });

  it('search_email filters by sender, subject, dates, flags and attachments, with or without a query', async () => {
    const u = user('filters');
    await agent.call('check_inbox', { mailbox: u.address }); // the page's bodies, so has_attachment is decided
    expect(subjects(await search(u, { from: 'carol' }))).toEqual(['Lunch', 'Quarterly figures']);
    expect(subjects(await search(u, { subject: 'INVOICE' }))).toEqual(['Invoice attached']);
    expect(subjects(await search(u, { since: '2030-01-02', before: '2030-01-03' }))).toEqual(['Invoice attached']);
    expect(subjects(await search(u, { flagged: true }))).toEqual(['Lunch']);
    expect(subjects(await search(u, { has_attachment: true }))).toEqual(['Invoice attached']);
    expect(subjects(await search(u, { query: 'body', from: 'carol', flagged: false }))).toEqual(['Quarterly figures']);
    expect(await search(u, { unread: true })).toMatchObject({ source: 'cache', indexed: SEED.length, total: SEED.length });
  });

  it('search_email asks the server with the filters for the part of a big folder not cached yet', async () => {
    const u = user('big');
    // The first sync caches the newest 100; the needle is older, so only IMAP SEARCH FROM can find it now.
    const first = await search(u, { folder: 'Big', from: 'needle' });
    expect(first).toMatchObject({ source: 'cache+server', total: BIG });
    expect(subjects(first)).toEqual(['Item 3']);
    const dated = await search(u, { folder: 'Big', since: new Date(T0 + 5 * 86_400_000).toISOString(), before: new Date(T0 + 7 * 86_400_000).toISOString() });
    expect(subjects(dated)).toEqual(['Item 5', 'Item 6']);
    // has_attachment cannot be asked of IMAP SEARCH: the answer says how far it could be checked.
    const att = await search(u, { folder: 'Big', has_attachment: false, subject: 'Item 12' });
    if ((att.indexed ?? 0) < BIG) expect(att.note).toMatch(/has_attachment was checked on the \d+ of 130 messages/);
  });
});
