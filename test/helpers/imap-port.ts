/**
 * The pieces the tests of the real IMAP port (src/mail/imap/mailbox.ts) share: an account on the private servers,
 * a Maildir seeded with files Dovecot numbers in order, and the services' context around one real port.
 */
import { EventEmitter } from 'node:events';
import { chownSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MailAccount } from '../../src/config/accounts.js';
import type { ImapMailbox } from '../../src/mail/imap/mailbox.js';
import type { Transport } from '../../src/mail/ports.js';
import type { AppContext } from '../../src/services/context.js';
import type { Store } from '../../src/store/store.js';
import type { MailServers, MailUser } from './mail-servers.js';

/** The user's account on the private Dovecot/Postfix, plain text on 127.0.0.1; `imapPort` to aim elsewhere. */
export function imapAccount(mail: MailServers, u: MailUser, imapPort = mail.imap.port): MailAccount {
  const server = {
    host: '127.0.0.1',
    port: imapPort,
    secure: false,
    requireStartTls: false,
    auth: { user: u.user, pass: u.password },
    rejectUnauthorized: true,
    ca: undefined,
  };
  return {
    address: u.address,
    displayName: null,
    imap: { ...server, saveSent: false, heartbeatMs: 60_000 },
    smtp: { ...server, port: mail.smtp.port, timeoutMs: 10_000 },
  };
}

/**
 * Writes messages `from`..`to` straight into a Maildir's cur/ (seen unless `unread(i)`), owned as Dovecot expects.
 * The names sort by their time prefix, which Dovecot follows when it gives out UIDs to new files.
 */
export function seedMaildir(dir: string, from: number, to: number, raw: (i: number) => string, unread: (i: number) => boolean = () => false): void {
  const { uid, gid } = statSync(join(dir, 'cur'));
  for (let i = from; i <= to; i++) {
    const file = join(dir, 'cur', `${1_800_000_000 + i}.M${i}P1.seed:2,${unread(i) ? '' : 'S'}`);
    writeFileSync(file, raw(i));
    chownSync(file, uid, gid);
  }
}

/** The services' context with this process's one real port: what the app builds, minus delivery and settings. */
export function portContext(store: Store, port: ImapMailbox): AppContext {
  const transport = { sender: undefined, mailbox: port } as unknown as Transport;
  return {
    store,
    clock: Date.now,
    transports: { canServe: () => true, forMailbox: () => transport, close: async () => undefined },
    settings: undefined as never,
    worker: undefined as never,
    changes: new EventEmitter(),
  };
}

/** A gated_send mailbox served by IMAP/SMTP, as the config would create it. */
export async function createImapMailbox(store: Store, address: string): Promise<void> {
  await store.createMailbox(
    {
      address,
      display_name: null,
      oversight_mode: 'gated_send',
      mode_source: 'test',
      auto_approve_rules: [],
      pending_ttl_seconds: 3600,
      transport: 'imap_smtp',
      policy: {},
    },
    'operator:test',
    Date.now(),
  );
}

/** Message `i` of a seeded folder: one sender each, dated a minute apart in order, with the body given. */
export function numberedMessage(i: number, body: string): string {
  return [
    `From: Sender ${i} <sender${i}@example.org>`,
    'To: someone@mailgate.test',
    `Subject: Message ${i}`,
    `Message-ID: <m${i}@example.org>`,
    `Date: ${new Date(Date.UTC(2030, 0, 1) + i * 60_000).toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
    '',
  ].join('\r\n');
}
