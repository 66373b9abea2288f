/**
 * The older part of a big folder, after a first sync cached only its newest page (sync.ts): envelopes fetched in
 * bounded batches by sequence range, newest first, each batch one FETCH under the folder lock. The mailbox runs
 * them on its background connection (mailbox.ts), so foreground commands never queue behind them. Also the pieces
 * a read needs from the part not cached yet: UIDs matching a search or unseen (IMAP SEARCH), and their envelopes.
 * Every folder is SELECTed (never EXAMINEd) on both connections, so no command makes the server reopen it.
 */
import type { ImapFlow, MailboxObject, SearchObject } from 'imapflow';
import { MailgateError } from '../../errors.js';
import type { CachedEnvelope } from '../../store/store.js';
import type { ImapConnection } from './connection.js';
import { type ServerSearch, searchCriteria } from './search-criteria.js';
import { ENVELOPE_QUERY, toEnvelope } from './sync.js';

/** One backfill batch: older envelopes, and the lowest UID now cached (null: the folder is cached whole). */
export interface BackfillBatch {
  envelopes: CachedEnvelope[];
  below: number | null;
}

/**
 * The up to `batch` messages just below UID `below`, by sequence number. Null when the folder's UIDVALIDITY is
 * no longer `uidvalidity` (RFC 3501 §2.3.1.1): the caller's cache is void and a resync starts over.
 */
export function backfillBatch(conn: ImapConnection, folder: string, uidvalidity: number, below: number, batch: number): Promise<BackfillBatch | null> {
  return conn.withFolder(folder, async (c) => {
    const box = c.mailbox as MailboxObject;
    if (Number(box.uidValidity) !== uidvalidity) return null;
    const top = below > 1 && box.exists > 0 ? await seqBelow(c, below) : 0;
    if (top < 1) return { envelopes: [], below: null };
    const start = Math.max(1, top - batch + 1);
    const envelopes: CachedEnvelope[] = [];
    for await (const msg of c.fetch(`${start}:${top}`, ENVELOPE_QUERY)) if (msg.uid < below) envelopes.push(toEnvelope(msg));
    const lowest = envelopes.reduce((low, e) => Math.min(low, e.uid), below);
    return { envelopes, below: start === 1 ? null : lowest };
  });
}

/** The sequence number of the newest message with a UID below `below` (0: none). */
async function seqBelow(c: ImapFlow, below: number): Promise<number> {
  const anchor = await c.fetchOne(String(below), { uid: true }, { uid: true });
  if (anchor) return anchor.seq - 1;
  // The anchor was expunged meanwhile: ask for the UIDs below it (only the part not cached yet) and take the last.
  const lower = await c.search({ uid: `1:${below - 1}` }, { uid: true });
  const last = lower ? lower.at(-1) : undefined;
  if (last === undefined) return 0;
  const msg = await c.fetchOne(String(last), { uid: true }, { uid: true });
  return msg ? msg.seq : 0;
}

/** UIDs below `below` that match (search_email's criteria, or UNSEEN), ascending: the part of a read the cache cannot answer yet. */
export function searchBelow(conn: ImapConnection, label: string, folder: string, below: number, query: ServerSearch): Promise<number[]> {
  if (below <= 1) return Promise.resolve([]);
  return conn.withFolder(folder, async (c) => {
    const q: SearchObject = { uid: `1:${below - 1}`, ...searchCriteria(query) };
    const found = await c.search(q, { uid: true });
    if (found === false) throw new MailgateError('UNAVAILABLE', `${label}: the IMAP server refused the search; retry, or narrow the query`);
    return (found ?? []).sort((a, b) => a - b);
  });
}

/** The envelopes of these UIDs (one UID FETCH), for messages a read needs before the backfill reaches them. */
export function fetchEnvelopes(conn: ImapConnection, folder: string, uidvalidity: number, uids: readonly number[]): Promise<CachedEnvelope[] | null> {
  if (uids.length === 0) return Promise.resolve([]);
  return conn.withFolder(folder, async (c) => {
    if (Number((c.mailbox as MailboxObject).uidValidity) !== uidvalidity) return null;
    const envelopes: CachedEnvelope[] = [];
    for await (const msg of c.fetch(uids.join(','), ENVELOPE_QUERY, { uid: true })) envelopes.push(toEnvelope(msg));
    return envelopes;
  });
}
