/**
 * Finding a conversation's messages on the server: SEARCH HEADER for the Message-IDs it is known by, in the
 * Message-ID, In-Reply-To and References fields (RFC 5322 §3.6.4), so a reply whose References the local cache
 * has not fetched yet is still found. Returns UIDs; the caller loads and stores what it needs.
 */
import type { SearchObject } from 'imapflow';
import { MailgateError } from '../../errors.js';
import type { ImapConnection } from './connection.js';

/** Ids per SEARCH: each adds three HEADER keys, and servers refuse overly long commands. */
const IDS_PER_SEARCH = 20;

/** UIDs of the folder's messages that are, answer or reference any of the given Message-IDs (`<id@host>`). */
export async function searchThreadUids(conn: ImapConnection, folder: string, messageIds: readonly string[]): Promise<number[]> {
  const ids = [...new Set(messageIds)].slice(0, IDS_PER_SEARCH);
  if (ids.length === 0) return [];
  const or = ids.flatMap((id): SearchObject[] => [{ header: { 'message-id': id } }, { header: { 'in-reply-to': id } }, { header: { references: id } }]);
  return conn.withFolder(
    folder,
    async (c) => {
      const found = await c.search(or.length === 1 ? or[0]! : { or }, { uid: true });
      if (found === false) throw new MailgateError('UNAVAILABLE', `${conn.label}: the IMAP server refused the thread search in '${folder}'; retry shortly`);
      return found ?? [];
    },
    { readOnly: true },
  );
}
