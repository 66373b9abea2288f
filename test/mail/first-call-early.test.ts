/**
 * The first check_inbox of a never-synced folder, as issue 14 wants it fast: the command connection is logged in
 * with INBOX open before the agent's first read (ImapMailbox.warmUp, once the client has listed the tools), the
 * page's bodies are fetched in one FETCH started as soon as its envelopes are in (early-bodies.ts), and the bodies
 * cached for the page are exactly what parseMessage makes of each message.
 * Real Dovecot (seeded by writing Maildir files), a real SQLite store, the real ImapMailbox; the test only counts
 * the folder operations the command connection runs (ImapConnection.withFolder) and the listing's body loads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/domain/open.js';
import { ImapMailbox } from '../../src/mail/imap/mailbox.js';
import { parseMessage } from '../../src/mail/parse.js';
import type { Principal } from '../../src/services/context.js';
import { checkInbox } from '../../src/services/inbox.js';
import type { Store } from '../../src/store/store.js';
import { createImapMailbox, imapAccount, numberedMessage, portContext, seedMaildir } from '../helpers/imap-port.js';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';

const TOTAL = 60;
const AGENT: Principal = { id: 'agent:test', roles: ['agent'], mailboxes: 'all' };

/** Message i: plain text mostly; HTML only, alternative quoted-printable, or base64 for some, so the page mixes them. */
function raw(i: number): string {
  const head = numberedMessage(i, '').split('\r\n').slice(0, 5).join('\r\n');
  if (i % 5 === 0) return `${head}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML ${i} <span style="display:none">hidden</span></p>\r\n`;
  if (i % 7 === 0)
    return `${head}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${Buffer.from(`Base64 ${i} — ok`).toString('base64')}\r\n`;
  if (i % 9 === 0)
    return [
      head,
      'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      `Gr=C3=BC=C3=9Fe ${i}`,
      '--b',
      'Content-Type: text/html; charset=utf-8',
      '',
      `<p>Grüße ${i}</p>`,
      '--b--',
      '',
    ].join('\r\n');
  return numberedMessage(i, `Plain body ${i},\r\nsecond line\u200b.`);
}

describe.skipIf(!requireMailServersOrSkip())('the first listing of a never-synced folder (real Dovecot, real SQLite)', () => {
  let mail: MailServers;
  let user: MailUser;
  let store: Store;
  const tmp = tempDir('mailgate-first-early-');
  const ports: ImapMailbox[] = [];

  beforeAll(async () => {
    mail = await startMailServers({ users: [] });
    user = await mail.addUser('early');
    await mail.deliver(raw(1), user.address);
    seedMaildir(mail.maildir(user.address), 2, TOTAL, raw, () => true);
    store = await openStore({ kind: 'sqlite', path: tmp.file('cache.db') });
    await createImapMailbox(store, user.address);
  }, 120_000);
  afterAll(async () => {
    for (const p of ports) await p.close().catch(() => undefined);
    await store?.close();
    await mail?.stop();
    tmp.cleanup();
  });

  it('opens INBOX before the first read, fetches the page bodies once, and caches what mailparser would', async () => {
    const port = new ImapMailbox(imapAccount(mail, user));
    ports.push(port);
    // In order: each folder operation of the command connection, and each time the listing asks for bodies.
    const events: string[] = [];
    const withFolder = port.conn.withFolder.bind(port.conn);
    port.conn.withFolder = (folder, fn, opts) => {
      events.push(`open ${folder}`);
      return withFolder(folder, fn, opts);
    };
    const loadBodies = port.loadBodies.bind(port);
    port.loadBodies = (folder, uids, opts) => {
      events.push(`bodies of ${uids.length} asked`);
      return loadBodies(folder, uids, opts);
    };

    // As a server starts and its client lists the tools: the IDLE connection waits for the first read, the command
    // connection gets ready for it.
    const idle = port.watch(() => undefined);
    expect(port.conn.selected).toBeNull();
    port.warmUp();
    await expect.poll(() => port.conn.selected, { timeout: 10_000, interval: 10 }).toBe('INBOX');
    expect(port.watching).toBe(false);
    expect(events).toEqual(['open INBOX']);

    const page = await checkInbox(portContext(store, port), AGENT, { mailbox: user.address, folder: 'INBOX', unread_only: false, limit: 20 });
    // The sync, then one FETCH for the page's bodies, started before the listing asked for them (it had the
    // envelopes to store first), and which answered it: no other folder operation.
    expect(events).toEqual(['open INBOX', 'open INBOX', 'open INBOX', 'bodies of 20 asked']);
    expect(page.map((e) => e.subject)).toEqual(Array.from({ length: 20 }, (_, k) => `Message ${TOTAL - k}`));
    for (const e of page) {
      const i = Number(e.subject.split(' ')[1]);
      const parsed = await parseMessage(Buffer.from(raw(i).replace(/\r?\n/g, '\r\n')));
      expect(e.has_body).toBe(true);
      expect({ text: e.text, html: e.html, attachments: e.attachments, refs: e.references_header }, e.subject).toStrictEqual({
        text: parsed.text,
        html: parsed.html,
        attachments: parsed.attachments,
        refs: parsed.references_header,
      });
    }

    // Handed out once: asked again (as by a later read), the bodies are fetched again, not served from memory.
    await port.loadBodies('INBOX', [page[0]!.uid!]);
    expect(events.slice(4)).toEqual(['bodies of 1 asked', 'open INBOX']);
    await port.unwatch();
    await idle;
  }, 60_000);

  it('fetches no bodies early for a first sync of more than a listing page (a search caches 100)', async () => {
    const opened = async (newest: number) => {
      const port = new ImapMailbox(imapAccount(mail, user));
      ports.push(port);
      let ops = 0;
      const withFolder = port.conn.withFolder.bind(port.conn);
      port.conn.withFolder = (folder, fn, opts) => {
        ops++;
        return withFolder(folder, fn, opts);
      };
      await port.syncNewest('INBOX', undefined, newest);
      return ops;
    };
    expect(await opened(20)).toBe(2);
    expect(await opened(100)).toBe(1);
  }, 60_000);
});
