/**
 * One message's whole source as the server stores it (forward_email as an attachment: the recipient gets the
 * original exactly, headers and all). Bounded: a message over `maxBytes` is not read into memory at all.
 */
import type { ImapConnection } from './connection.js';
import { readAll } from './attachments.js';

export type RawFetch = { kind: 'ok'; raw: Buffer } | { kind: 'missing' } | { kind: 'too_large'; size: number };

export async function fetchRawMessage(conn: ImapConnection, folder: string, uid: number, maxBytes: number): Promise<RawFetch> {
  return conn.withFolder(
    folder,
    async (c) => {
      const msg = await c.fetchOne(String(uid), { uid: true, size: true }, { uid: true });
      if (msg === false || !msg) return { kind: 'missing' };
      if ((msg.size ?? 0) > maxBytes) return { kind: 'too_large', size: msg.size ?? 0 };
      const d = await c.download(String(uid), undefined, { uid: true, maxBytes: maxBytes + 1 });
      if (!d.content) return { kind: 'missing' };
      const raw = await readAll(d.content);
      return raw.length > maxBytes ? { kind: 'too_large', size: raw.length } : { kind: 'ok', raw };
    },
    { readOnly: true },
  );
}
