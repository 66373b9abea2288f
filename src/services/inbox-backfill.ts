/**
 * Big folders, for the inbox cache (inbox-cache.ts): a first sync caches only the newest page, so the first
 * check_inbox answers at once, and this module fills in the rest in the background, newest first, in bounded
 * batches streamed into the store (no whole-folder array in memory). The folder's `backfill_below` (the lowest
 * UID cached so far, with its UIDVALIDITY) is stored with each batch, so a restart resumes where it stopped.
 *
 * While it runs, reads stay correct: check_inbox's pages are never larger than the first page; an unread-only
 * listing and a search ask the server about the part not cached yet and cache what they find first.
 */
import type { ServerSearch } from '../mail/imap/search-criteria.js';
import type { KnownFolder, MailboxPort, SyncDelta } from '../mail/ports.js';
import type { CachedEnvelope, FolderState, Store } from '../store/store.js';

/** The newest messages a first sync caches: the largest page check_inbox can ask for. */
export const FIRST_PAGE = 100;
/** Envelopes per backfill FETCH: what a foreground command may have to wait behind, at most. */
export const BACKFILL_BATCH = 250;
/** Envelopes per write transaction when a batch is stored. */
const STORE_CHUNK = 100;

/** What an IMAP port offers for big folders (ImapMailbox has it; a port without it syncs whole folders). */
export interface BackfillPort {
  syncNewest(folder: string, known: KnownFolder | undefined, newest: number): Promise<SyncDelta & { backfill_below: number | null }>;
  backfill(folder: string, uidvalidity: number, below: number, batch: number): Promise<{ envelopes: CachedEnvelope[]; below: number | null } | null>;
  searchBelow(folder: string, below: number, query: ServerSearch): Promise<number[]>;
  fetchEnvelopes(folder: string, uidvalidity: number, uids: readonly number[]): Promise<CachedEnvelope[] | null>;
}

export function canBackfill(port: MailboxPort): port is MailboxPort & BackfillPort {
  return typeof (port as Partial<BackfillPort>).backfill === 'function';
}

/**
 * Backfills one folder until it is cached whole, the UIDVALIDITY changes (the next sync starts over), or
 * `stopped()` says so. Each batch is one FETCH and a few short transactions, started once `idle()` resolves; `stored()` after each.
 */
export async function backfillFolder(
  store: Store,
  port: BackfillPort,
  address: string,
  folder: string,
  clock: () => number,
  stopped: () => boolean,
  idle: () => Promise<void>,
  stored: () => void = () => undefined,
): Promise<void> {
  // Each batch waits until no foreground read is running: a read waits for the batch in flight at most.
  for (;;) {
    await idle();
    if (stopped()) return;
    const state = await store.getFolderState(address, folder);
    if (!state?.backfill_below) return;
    const got = await port.backfill(folder, state.uidvalidity, state.backfill_below, BACKFILL_BATCH);
    if (!got) return;
    await storeOlder(store, state, got.envelopes, got.below, clock());
    stored();
  }
}

/**
 * Caches envelopes older than the backfill has reached (a batch, or what a read needed first). `below` moves the
 * folder's mark only downwards, so a read caching a few old messages never undoes a batch.
 */
async function storeOlder(store: Store, state: FolderState, envelopes: CachedEnvelope[], below: number | null, now: number): Promise<void> {
  // In short transactions, newest first, with a turn of the event loop between them: each one holds the store and
  // the event loop (500 rows with their full-text entries took ~100 ms here), and a read must not wait that long.
  // Only the last moves the mark, so a batch cut short by a crash is fetched again (the upserts are idempotent).
  for (let end = envelopes.length; ; ) {
    const start = Math.max(0, end - STORE_CHUNK);
    const mark = start === 0 ? below : (state.backfill_below ?? null);
    const upserts = envelopes.slice(start, end);
    await store.applyFolderSync({ state: { ...state, backfill_below: mark }, reset: false, upserts, flagUpdates: [], removed: [], backfill: true }, now);
    if (start === 0) return;
    end = start;
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * The part of a read the cache cannot answer yet: UIDs below the backfill mark that match on the server, the
 * newest `limit` of them cached now (envelopes only). Nothing to do once the folder is cached whole.
 */
export async function cacheOlderMatches(
  store: Store,
  port: BackfillPort,
  address: string,
  folder: string,
  query: ServerSearch,
  limit: number,
  now: () => number,
): Promise<number[]> {
  const state = await store.getFolderState(address, folder);
  if (!state?.backfill_below) return [];
  const uids = (await port.searchBelow(folder, state.backfill_below, query)).slice(-limit);
  const envelopes = await port.fetchEnvelopes(folder, state.uidvalidity, uids);
  if (!envelopes) return [];
  await storeOlder(store, state, envelopes, state.backfill_below, now());
  return uids;
}
