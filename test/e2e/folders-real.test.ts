/**
 * list_folders on a real mailbox through a spawned `mailgate serve`: the private Dovecot's folders with their
 * RFC 6154 special use and live STATUS counts (mail delivered over LMTP, flags set with the user's own IMAP
 * login), and check_inbox / search_email naming the folder list for a folder that does not exist.
 */
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, ok, type ServerHandle, textOf } from './harness.js';
import { closeAllReal, imapAs, startRealServer, writeRealConfig } from './real-harness.js';

interface Folder {
  path: string;
  name: string;
  delimiter: string | null;
  special_use: string | null;
  messages: number | null;
  unread: number | null;
  selectable: boolean;
}

const raw = (n: number) =>
  [
    `From: carol@example.org`,
    'To: bob@mailgate.test',
    `Subject: Note ${n}`,
    `Message-ID: <note-${n}@example.org>`,
    'Content-Type: text/plain',
    '',
    `Note ${n}.`,
  ].join('\r\n');

describe.skipIf(!requireMailServersOrSkip())('list_folders on real folders', () => {
  const tmp = tempDir('mailgate-real-folders-');
  let mail: MailServers;
  let user: MailUser;
  let agent: ServerHandle;
  let own: ImapFlow;

  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['lister'] });
    user = mail.users[0]!;
    for (const n of [1, 2, 3]) await mail.deliver(raw(n), user.address);
    own = await imapAs(mail, user);
    await own.mailboxCreate('Projects');
    await own.append('Projects', raw(10), ['\\Seen']);
    await own.append('Projects', raw(11));
    const lock = await own.getMailboxLock('INBOX');
    try {
      await own.messageFlagsAdd('1', ['\\Seen'], { uid: true });
    } finally {
      lock.release();
    }
    const config = writeRealConfig(tmp.file('mailgate.json'), mail, [{ user, mode: 'gated_send' }]);
    agent = await startRealServer({ role: 'agent', db: tmp.file('folders.db'), home: tmp.path, config });
  }, 60_000);

  afterAll(async () => {
    await own?.logout().catch(() => undefined);
    await closeAllReal();
    await mail?.stop();
    tmp.cleanup();
  });

  const folders = async () => ok<{ mailbox: string; folders: Folder[] }>(await agent.call('list_folders', { mailbox: user.address }));

  it('lists every folder with its special use and the server’s message and unread counts', async () => {
    const r = await folders();
    expect(r.mailbox).toBe(user.address);
    expect(r.folders[0]).toMatchObject({ path: 'INBOX', messages: 3, unread: 2, selectable: true });
    const by = new Map(r.folders.map((f) => [f.path, f]));
    expect(by.get('Projects')).toMatchObject({ name: 'Projects', special_use: null, messages: 2, unread: 1 });
    for (const [path, use] of [
      ['Sent', 'sent'],
      ['Drafts', 'drafts'],
      ['Trash', 'trash'],
      ['Junk', 'junk'],
      ['Archive', 'archive'],
    ]) {
      expect(by.get(path!), path).toMatchObject({ special_use: use, messages: 0, unread: 0, selectable: true });
    }
    expect(new Set(r.folders.map((f) => f.delimiter)).size).toBe(1);
    expect(r.folders[0]!.delimiter).toMatch(/^[./]$/);
  });

  it('counts mail delivered since, from the server rather than a stale cache or session view', async () => {
    // check_inbox leaves INBOX selected on the server's connection, whose STATUS Dovecot answers from the
    // session's view until it syncs: the count must still include the message delivered after it.
    ok(await agent.call('check_inbox', { mailbox: user.address }));
    await mail.deliver(raw(4), user.address);
    const inbox = (await folders()).folders.find((f) => f.path === 'INBOX')!;
    expect(inbox).toMatchObject({ messages: 4, unread: 3 });
  });

  it('check_inbox and search_email name the folders, and list_folders, for a folder that does not exist', async () => {
    for (const [tool, args] of [
      ['check_inbox', { mailbox: user.address, folder: 'Projekts' }],
      ['search_email', { mailbox: user.address, folder: 'Projekts', query: 'note' }],
    ] as const) {
      const r = await agent.call(tool, args);
      expect(r.isError, tool).toBe(true);
      expect(textOf(r)).toMatch(/INVALID_INPUT.*'Projekts' does not exist.*folders: .*Projects.*list_folders/);
    }
  });
});
