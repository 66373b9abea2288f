/**
 * The folders of a real mailbox: one LIST with STATUS for every selectable folder (RFC 5819 LIST-STATUS where
 * the server has it; imapflow falls back to a STATUS per folder), with RFC 6154 special use. Read only.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import { MailgateError } from '../../errors.js';
import type { FolderInfo } from '../ports.js';
import { type ImapConnection, withDeadline } from './connection.js';
import { connectionError, isServerAnswer, refusalError } from './errors.js';

/** LIST with STATUS for a few dozen folders answers in well under this; a dead link never does. */
const LIST_DEADLINE_MS = 30_000;

/** Every folder with its special use, message and unread counts, in the server's order (INBOX first). */
export async function listFolderInfo(conn: ImapConnection): Promise<FolderInfo[]> {
  const folders = await onClient(conn, 'listing the folders', async (c) => {
    // Dovecot answers STATUS for the session's selected folder from the session's view, which learns of new
    // mail only at the next sync: a NOOP first, or list_folders reports the selected folder's stale counts.
    if (c.mailbox) await c.noop();
    return c.list({ statusQuery: { messages: true, unseen: true } });
  });
  const infos = folders.map(toFolderInfo);
  return [...infos.filter((f) => f.path === 'INBOX'), ...infos.filter((f) => f.path !== 'INBOX')];
}

/** The folder a client files sent mail in: special use \Sent (RFC 6154), else one named like it, else none. */
export function sentFolderOf(folders: readonly FolderInfo[]): string | null {
  return folders.find((f) => f.special_use === 'sent')?.path ?? folders.find((f) => /^sent( items| messages)?$/i.test(f.name))?.path ?? null;
}

function toFolderInfo(f: ListResponse): FolderInfo {
  const selectable = !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent');
  return {
    path: f.path,
    name: f.name,
    delimiter: f.delimiter || null,
    special_use: f.specialUse ? f.specialUse.replace(/^\\/, '').toLowerCase() : null,
    messages: selectable ? (f.status?.messages ?? null) : null,
    unread: selectable ? (f.status?.unseen ?? null) : null,
    selectable,
  };
}

/**
 * Runs a command that needs no selected folder on the account's connection, with the errors withFolder gives:
 * the server's NO/BAD as MAIL_REFUSED or UNAVAILABLE, a failing connection as UNAVAILABLE (and dropped).
 */
async function onClient<T>(conn: ImapConnection, what: string, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  let client: ImapFlow;
  try {
    client = await withDeadline(conn.get(), LIST_DEADLINE_MS, () => conn.drop('connecting took too long'));
  } catch (err) {
    throw new MailgateError('UNAVAILABLE', (err as Error).message);
  }
  try {
    return await withDeadline(fn(client), LIST_DEADLINE_MS, () => conn.drop(`${what} got no answer in time`));
  } catch (err) {
    if (err instanceof MailgateError) throw err;
    if (isServerAnswer(err)) throw refusalError(conn.label, what, err);
    conn.drop(`${what} failed: ${(err as Error).message}`);
    throw connectionError(conn.label, err);
  }
}
