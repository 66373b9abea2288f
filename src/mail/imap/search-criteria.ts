/**
 * A read's question to the server for the part of a folder not cached yet (backfill.ts searchBelow), as IMAP
 * SEARCH keys (RFC 3501 §6.4.4). The server's answer is a superset the local index then narrows exactly: hits
 * are cached and the same search runs on the store, so the two never disagree on an edge.
 */
import type { SearchObject } from 'imapflow';

export interface ServerSearch {
  /** BODY: the free-text words (the server matches substrings, the index word prefixes). */
  text?: string | undefined;
  unseen?: boolean | undefined;
  from?: string | undefined;
  to?: string | undefined;
  subject?: string | undefined;
  /** Epoch ms, as search_email's since / before. */
  since?: number | undefined;
  before?: number | undefined;
  flagged?: boolean | undefined;
}

const DAY_MS = 86_400_000;

/** The SEARCH keys of a question; has_attachment has none (BODYSTRUCTURE is not searchable). */
export function searchCriteria(q: ServerSearch): SearchObject {
  const s: SearchObject = {};
  if (q.text !== undefined) s.body = q.text;
  if (q.unseen !== undefined) s.seen = !q.unseen;
  if (q.from !== undefined) s.from = q.from;
  if (q.to !== undefined) s.to = q.to;
  if (q.subject !== undefined) s.subject = q.subject;
  if (q.flagged !== undefined) s.flagged = q.flagged;
  // SENTSINCE / SENTBEFORE compare the Date: header's calendar day in its own zone, so a day's margin each side
  // keeps every message whose instant is in range.
  if (q.since !== undefined) s.sentSince = new Date(q.since - DAY_MS);
  if (q.before !== undefined) s.sentBefore = new Date(q.before + DAY_MS);
  return s;
}

/**
 * One SEARCH over two UID sets (either may be null): `uncached` with every key of the question, `unfetched` with its
 * text alone (BODY). Both ask the same when the question is only text, so the sets are joined; otherwise an OR of
 * the two (RFC 3501 §6.4.4). Null when there is nothing to ask.
 */
export function unindexedSearch(uncached: string | null, q: ServerSearch, unfetched: string | null): SearchObject | null {
  const all = { ...searchCriteria(q) };
  const text: SearchObject = q.text === undefined ? {} : { body: q.text };
  if (uncached === null) return unfetched === null || q.text === undefined ? null : { uid: unfetched, ...text };
  if (unfetched === null) return { uid: uncached, ...all };
  const onlyText = Object.keys(all).length === 1 && all.body !== undefined;
  return onlyText
    ? { uid: `${uncached},${unfetched}`, ...all }
    : {
        or: [
          { uid: uncached, ...all },
          { uid: unfetched, ...text },
        ],
      };
}
