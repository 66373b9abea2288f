/**
 * list_folders, and the IMAP side of a mailbox for the read services beside inbox.ts (attachments, threads):
 * a real mailbox answers from its server (LIST + STATUS), a sandbox one from the store, where a folder exists
 * once mail is in it (INBOX and Sent always).
 */
import { MailgateError } from '../errors.js';
import { listFolderInfo } from '../mail/imap/folders.js';
import type { ImapConnection } from '../mail/imap/connection.js';
import { ImapMailbox } from '../mail/imap/mailbox.js';
import type { FolderInfo } from '../mail/ports.js';
import type { Mailbox } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import type { InboxCache } from './inbox-cache.js';
import { getMailboxOrThrow } from './scope.js';
import { cacheFor } from './mailbox-cache.js';

/** The sandbox's folders take their special use from their names, as mail clients guess it without RFC 6154. */
const SANDBOX_SPECIAL: Record<string, string> = {
  INBOX: 'inbox',
  Sent: 'sent',
  Drafts: 'drafts',
  Trash: 'trash',
  Junk: 'junk',
  Spam: 'junk',
  Archive: 'archive',
};
/** Counting a sandbox folder lists its rows; past this many the counts say at least this. */
const SANDBOX_COUNT_LIMIT = 100_000;

export async function listFolders(ctx: AppContext, who: Principal, address: string): Promise<{ mailbox: string; folders: FolderInfo[] }> {
  const mailbox = await getMailboxOrThrow(ctx, who, address);
  const imap = imapSide(ctx, mailbox);
  return { mailbox: mailbox.address, folders: imap ? await listFolderInfo(imap.conn) : await sandboxFolders(ctx, mailbox.address) };
}

async function sandboxFolders(ctx: AppContext, address: string): Promise<FolderInfo[]> {
  const names = [...new Set(['INBOX', 'Sent', ...(await ctx.store.listFolders(address))])];
  return Promise.all(
    names.map(async (name) => {
      const emails = await ctx.store.listEmails({ mailbox: address, folder: name, unread_only: false, limit: SANDBOX_COUNT_LIMIT });
      return {
        path: name,
        name,
        delimiter: null,
        special_use: SANDBOX_SPECIAL[name] ?? null,
        messages: emails.length,
        unread: emails.filter((e) => e.unread).length,
        selectable: true,
      };
    }),
  );
}

/**
 * The error for a folder the mailbox does not have, naming the ones it has, for check_inbox and search_email
 * (the IMAP side says the same in src/mail/imap/errors.ts folderOpenError).
 */
export function unknownFolderError(address: string, folder: string, folders: readonly string[]): MailgateError {
  return new MailgateError(
    'INVALID_INPUT',
    `folder: '${folder}' does not exist in ${address}; folders: ${folders.join(', ') || 'INBOX'} (list_folders shows each with its special use and counts)`,
    { field: 'folder' },
  );
}

/** The IMAP connection and inbox cache of a real mailbox, or undefined for a sandbox one (its mail is in the store). */
export function imapSide(ctx: AppContext, mailbox: Mailbox): { conn: ImapConnection; cache: InboxCache } | undefined {
  const cache = cacheFor(ctx, mailbox);
  if (!cache) return undefined;
  const port = cache.port;
  if (!(port instanceof ImapMailbox)) throw new MailgateError('UNAVAILABLE', `mailbox ${mailbox.address}: its transport cannot list folders or fetch parts`);
  return { conn: port.conn, cache };
}
