/**
 * The IMAP MailboxPort against a private Dovecot, with no store: it is given what a cache would know and
 * returns what changed (envelopes, flag changes, vanished UIDs, whether to reset), parsed bodies keyed by
 * UID, and tag results that say what the server accepted and what it refused, and why. Each test has a
 * user of its own.
 */
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailgateError } from '../../src/errors.js';
import { ImapMailbox } from '../../src/mail/imap/mailbox.js';
import type { KnownFolder, SyncDelta } from '../../src/mail/ports.js';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { imapAccount } from '../helpers/imap-port.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const raw = (n: number, extra = ''): string =>
  [
    `From: Sender ${n} <sender${n}@example.org>`,
    'To: someone@mailgate.test',
    `Subject: Message ${n}`,
    `Message-ID: <m${n}@example.org>`,
    `Date: ${new Date(Date.UTC(2030, 0, 1, 10, n)).toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body number ${n}.${extra}`,
    '',
  ].join('\r\n');

/** What a cache that applied `delta` would know next. */
const knownAfter = (delta: SyncDelta, uids: number[]): KnownFolder => ({ ...delta.state, uids });

describe.skipIf(!requireMailServersOrSkip())('the IMAP MailboxPort returns values (real Dovecot, no store)', () => {
  let mail: MailServers;
  const open: { close(): Promise<unknown> }[] = [];
  beforeAll(async () => {
    mail = await startMailServers({ users: [] });
  });
  afterAll(async () => {
    for (const o of open) await o.close().catch(() => undefined);
    await mail?.stop();
  });

  /** A fresh user with `n` messages in INBOX, the port, and the user's own IMAP client (what their mail app sees). */
  async function setup(name: string, n: number, port?: number): Promise<{ u: MailUser; box: ImapMailbox; own: ImapFlow }> {
    const u = await mail.addUser(name);
    for (let i = 1; i <= n; i++) await mail.deliver(raw(i), u.address);
    const box = new ImapMailbox(imapAccount(mail, u, port));
    const own = new ImapFlow({ host: mail.imap.host, port: mail.imap.port, secure: false, auth: { user: u.user, pass: u.password }, logger: false });
    await own.connect();
    open.push(box, { close: () => own.logout() });
    return { u, box, own };
  }

  async function serverFlags(own: ImapFlow, folder: string): Promise<Map<number, string[]>> {
    const lock = await own.getMailboxLock(folder, { readOnly: true });
    try {
      await own.noop();
      const out = new Map<number, string[]>();
      if ((own.mailbox && own.mailbox.exists) === 0) return out;
      for await (const m of own.fetch('1:*', { uid: true, flags: true }, { uid: true })) out.set(m.uid, [...(m.flags ?? [])]);
      return out;
    } finally {
      lock.release();
    }
  }

  it('sync: a first sync is a reset with every envelope; the next returns only what changed since what it was told', async () => {
    const { u, box, own } = await setup('syncer', 3);
    const first = await box.sync('INBOX', undefined);
    expect(first).toMatchObject({ folder: 'INBOX', reset: true, flagChanges: [], vanished: [] });
    expect(first.envelopes.map((e) => [e.uid, e.subject, e.from_addr])).toEqual([
      [1, 'Message 1', 'sender1@example.org'],
      [2, 'Message 2', 'sender2@example.org'],
      [3, 'Message 3', 'sender3@example.org'],
    ]);
    expect(first.state).toMatchObject({ uidnext: 4, messages: 3 });
    expect(first.state.uidvalidity).toBeGreaterThan(0);
    // Dovecot has CONDSTORE (RFC 7162): the delta carries HIGHESTMODSEQ for the next CHANGEDSINCE.
    expect(first.state.highestmodseq).toMatch(/^\d+$/);

    // Nothing changed: an empty delta, not a reset.
    const same = await box.sync('INBOX', knownAfter(first, [1, 2, 3]));
    expect(same).toMatchObject({ reset: false, envelopes: [], flagChanges: [], vanished: [] });

    // A new message, a flag set and a message expunged by the user's own client.
    await mail.deliver(raw(4), u.address);
    const lock = await own.getMailboxLock('INBOX');
    try {
      await own.messageFlagsAdd('1', ['\\Flagged'], { uid: true });
      await own.messageDelete('2', { uid: true });
    } finally {
      lock.release();
    }
    const next = await box.sync('INBOX', knownAfter(first, [1, 2, 3]));
    expect(next.reset).toBe(false);
    expect(next.envelopes.map((e) => e.uid)).toEqual([4]);
    expect(next.flagChanges).toEqual([{ uid: 1, flags: expect.arrayContaining(['\\Flagged']) }]);
    expect(next.vanished).toEqual([2]);
    expect(next.state).toMatchObject({ uidnext: 5, messages: 3 });
  });

  it('sync: a cache of another UIDVALIDITY is void, so the delta is a reset with every envelope (RFC 3501 §2.3.1.1)', async () => {
    const { box } = await setup('validity', 2);
    const first = await box.sync('INBOX', undefined);
    const stale = { ...knownAfter(first, [1, 2]), uidvalidity: first.state.uidvalidity + 1 };
    const again = await box.sync('INBOX', stale);
    expect(again.reset).toBe(true);
    expect(again.envelopes.map((e) => e.uid)).toEqual([1, 2]);
    expect(again.vanished).toEqual([]);
  });

  it('sync: a folder emptied on the server vanishes every known UID', async () => {
    const { box, own } = await setup('emptied', 2);
    const first = await box.sync('INBOX', undefined);
    const lock = await own.getMailboxLock('INBOX');
    try {
      await own.messageDelete('1:*', { uid: true });
    } finally {
      lock.release();
    }
    expect(await box.sync('INBOX', knownAfter(first, [1, 2]))).toMatchObject({ reset: false, envelopes: [], vanished: [1, 2] });
  });

  it('loadBodies returns parsed bodies keyed by UID, and leaves out UIDs the server does not have', async () => {
    const { box } = await setup('bodies', 3);
    const bodies = await box.loadBodies('INBOX', [1, 3, 99]);
    expect([...bodies.keys()].sort()).toEqual([1, 3]);
    expect(bodies.get(1)?.text?.trim()).toBe('Body number 1.');
    expect(bodies.get(3)?.text?.trim()).toBe('Body number 3.');
    expect(await box.loadBodies('INBOX', [])).toEqual(new Map());
  });

  it('applyTag returns what the server accepted; the flags and the move are on the server', async () => {
    const { box, own } = await setup('tagger', 2);
    const result = await box.applyTag({ folder: 'INBOX', uid: 1 }, { add_flags: ['\\Seen', 'followup'], remove_flags: [], move_to: 'Archive' });
    expect(result).toEqual({ added: ['\\Seen', 'followup'], removed: [], moved_to: 'Archive', refused: null });
    expect([...(await serverFlags(own, 'INBOX')).keys()]).toEqual([2]);
    expect([...(await serverFlags(own, 'Archive')).values()]).toEqual([expect.arrayContaining(['\\Seen', 'followup'])]);
  });

  it('applyTag: a move to a folder that does not exist is refused for good (NO [TRYCREATE]), with the reason, on a connection kept open', async () => {
    const { box, own } = await setup('nowhere', 1);
    const before = await box.conn.get();
    const result = await box.applyTag({ folder: 'INBOX', uid: 1 }, { add_flags: ['\\Flagged'], remove_flags: [], move_to: 'Nowhere' });
    expect(result).toMatchObject({ added: ['\\Flagged'], moved_to: null, refused: { code: 'MAIL_REFUSED' } });
    expect(result.refused!.reason).toMatch(/moving the email to 'Nowhere': \[TRYCREATE\] Mailbox doesn't exist: Nowhere$/);
    // The connection answered; it is not dropped, and the next call reuses it.
    expect(await box.conn.get()).toBe(before);
    expect(before.usable).toBe(true);
    expect((await serverFlags(own, 'INBOX')).get(1)).toContain('\\Flagged');
  });

  it('applyTag: a flag the server refuses (NO [CANNOT], keyword too long) is a refusal, never "added", and nothing after it is tried', async () => {
    const { box, own } = await setup('longflag', 1);
    const before = await box.conn.get();
    const long = 'k'.repeat(60); // Dovecot's mail_max_keyword_length is 50
    const result = await box.applyTag({ folder: 'INBOX', uid: 1 }, { add_flags: [long], remove_flags: [], move_to: 'Archive' });
    expect(result).toMatchObject({ added: [], removed: [], moved_to: null, refused: { code: 'MAIL_REFUSED' } });
    expect(result.refused!.reason).toMatch(/^adding k{60}: \[CANNOT\] Keyword length too long$/);
    expect(await box.conn.get()).toBe(before);
    expect((await serverFlags(own, 'INBOX')).get(1)).not.toContain(long);
  });

  it('applyTag: a connection that fails under the command is UNAVAILABLE (retryable), not a refusal', async () => {
    const u = await mail.addUser('cut');
    await mail.deliver(raw(1), u.address);
    const proxy = await startTcpProxy({ port: mail.imap.port });
    open.push(proxy);
    const box = new ImapMailbox(imapAccount(mail, u, proxy.port));
    open.push(box);
    await box.sync('INBOX', undefined);
    await proxy.close();
    const err = await box.applyTag({ folder: 'INBOX', uid: 1 }, { add_flags: ['\\Seen'], remove_flags: [], move_to: null }).catch((e: unknown) => e);
    expect(err, JSON.stringify(err)).toBeInstanceOf(MailgateError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });
});
