/**
 * The part of search_email the local index cannot answer yet (inbox-cache.ts): messages below a big folder's backfill
 * mark (not cached) and cached ones whose bodies are not fetched. The server is asked with one SEARCH per window of
 * UIDs, newest first (ImapMailbox.searchUnindexed); the hits a page can show are cached with their bodies, so the
 * store's search then decides exactly (the server matches substrings, the index word prefixes).
 *
 * A page without filters is the newest matches: once it is full of messages from the windows searched so far, the
 * older windows cannot change it (UIDs grow with arrival, the same order the backfill and a page of uncached hits go
 * by), so they are left to the body prefetch. A search for a common word in a 100k folder then asks the server about
 * a few thousand messages, not all of them; a rare word still gets every window (the same server work as one SEARCH).
 */
import type { ServerSearch } from '../mail/imap/search-criteria.js';
import type { MailboxPort } from '../mail/ports.js';
import type { InboundEmail, Store } from '../store/store.js';
import { canBackfill } from './inbox-backfill.js';

/** UIDs in the first window; each next one is twice as wide. */
const FIRST_WINDOW = 4096;

/** ImapMailbox's SEARCH over a window; a port without it asks only about the cached-but-unfetched messages. */
interface UnindexedSearchPort {
  searchUnindexed(folder: string, uncached: { from: number; to: number } | null, query: ServerSearch, unfetched: readonly number[]): Promise<number[]>;
}

function hasUnindexedSearch(port: MailboxPort): port is MailboxPort & UnindexedSearchPort {
  return typeof (port as Partial<UnindexedSearchPort>).searchUnindexed === 'function';
}

export interface UnindexedOptions {
  limit: number;
  /** A page without filters: only the newest `limit` hits need bodies now, and windows stop once the page is full. */
  newestOnly: boolean;
  /** Fetches and stores the bodies of these cached emails (InboxCache.loadBodies). */
  loadBodies: (emails: readonly InboundEmail[]) => Promise<void>;
  /** Whether the store's search now gives a full page, every message of it at or above UID `from`. */
  pageFrom: (from: number) => Promise<boolean>;
  now: () => number;
}

/**
 * Null when the server had nothing to search; else whether it answered for part of the folder, and (for a text
 * search) how many cached bodies are still unfetched after.
 */
export async function searchUnindexed(
  store: Store,
  port: MailboxPort,
  address: string,
  folder: string,
  query: ServerSearch,
  o: UnindexedOptions,
): Promise<{ asked: boolean; unfetched?: number } | null> {
  const state = await store.getFolderState(address, folder);
  const below = (canBackfill(port) && state?.backfill_below) || null;
  const pending = query.text === undefined ? [] : await store.unfetchedUids(address, folder);
  if (!below && pending.length === 0) return query.text === undefined ? null : { asked: false, unfetched: 0 };
  const unfetched = new Set(pending);
  const top = Math.max(pending.at(-1) ?? 0, (below ?? 1) - 1);
  let asked = pending.length > 0;
  let newlyCached = 0;
  let loaded = 0;
  const olderHits: number[] = [];
  const pendingHits = new Set<number>();
  // With filters every hit may be on the page (the store applies them), so the one window is the whole folder.
  for (let to = top, width = o.newestOnly ? FIRST_WINDOW : top; to >= 1; width *= 2) {
    const from = Math.max(1, to - width + 1);
    const inWindow = pending.filter((uid) => uid >= from && uid <= to);
    const uncached = below && from < below ? { from, to: Math.min(to, below - 1) } : null;
    const hits = hasUnindexedSearch(port)
      ? await port.searchUnindexed(folder, uncached, query, inWindow)
      : query.text === undefined
        ? []
        : await port.searchServer(folder, query.text, inWindow);
    for (const uid of hits) if (unfetched.has(uid)) pendingHits.add(uid);
    // Hits below the mark not cached yet: the newest `limit` of them are cached (by UID, as a page of them is).
    const older = below ? hits.filter((uid) => uid < below && !unfetched.has(uid)) : [];
    const room = o.limit - olderHits.length;
    const fresh = room > 0 ? older.slice(-room) : [];
    olderHits.push(...fresh);
    if (fresh.length > 0 && canBackfill(port) && state) {
      asked = true;
      const envelopes = await port.fetchEnvelopes(folder, state.uidvalidity, fresh);
      // As a backfill batch below the mark: the mark stays, and a reset in between voids it (applyBackfill).
      if (envelopes?.length) await store.applyFolderSync({ state, reset: false, upserts: envelopes, flagUpdates: [], removed: [], backfill: true }, o.now());
    }
    if (query.text !== undefined) {
      const rows = await store.emailsByUid(address, folder, [...new Set([...pendingHits, ...fresh])]);
      const candidates = rows.filter((e) => !e.has_body);
      newlyCached += rows.filter((e) => !unfetched.has(e.uid!) && fresh.includes(e.uid!) && !e.has_body).length;
      const fetch = o.newestOnly ? candidates.sort((a, b) => b.date - a.date).slice(0, o.limit) : candidates;
      await o.loadBodies(fetch);
      loaded += fetch.length;
    }
    to = from - 1;
    if (to >= 1 && pendingHits.size + olderHits.length >= o.limit && (await o.pageFrom(from))) break;
  }
  if (query.text === undefined) return { asked };
  return { asked, unfetched: pending.length + newlyCached - loaded };
}
