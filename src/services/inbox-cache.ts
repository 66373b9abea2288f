/**
 * The inbound cache of a real mailbox, in one place: asks the MailboxPort what changed and persists it.
 * Syncs are incremental (the port gets what the cache knows: UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, UIDs),
 * one at a time per folder; INBOX counts as current while IDLE (RFC 2177) is up and has reported nothing
 * since the last sync; after each sync the bodies of the folder are fetched in the background in small
 * batches, so searches come to be answered by the local index (FTS, by trigger) alone. A big folder's first
 * sync caches only its newest page and backfills the rest in the background (inbox-backfill.ts). Sandbox mailboxes
 * have no port: their mail is in the store already and a tag is a store write.
 */
import { log } from '../log.js';
import type { ServerSearch } from '../mail/imap/search-criteria.js';
import type { MailboxPort, TagResult, Transport } from '../mail/ports.js';
import type { InboundEmail, ParsedBody, Store, TagAction } from '../store/store.js';
import { backfillFolder, cacheOlderMatches, canBackfill, FIRST_PAGE } from './inbox-backfill.js';
import { ForegroundGate } from './inbox-foreground.js';
import { searchUnindexed, type UnindexedOptions } from './inbox-search.js';

/** Messages per prefetch FETCH, on the background connection: few round trips, so a 100k folder indexes in minutes. */
const PREFETCH_BATCH = 200;
/** Raw bytes per prefetch FETCH at most (by the cached sizes): a batch of big mails stays small in memory. */
const PREFETCH_BYTES = 2 * 1024 * 1024;
/** A prefetch this short stays on the command connection (no third connection for a small inbox), unless the folder is being backfilled. */
const PREFETCH_OWN_CONNECTION = 100;
/** Bodies per write transaction: each one holds the store (every read waits) and the event loop while it runs. */
const STORE_CHUNK = 50;
const EMPTY_BODY: ParsedBody = { text: null, html: null, references_header: null, in_reply_to_header: null, attachments: [] };

export class InboxCache {
  /** INBOX is known current: synced since the watcher last reported a change. */
  private inboxClean = false;
  /** Bumped by every watcher notice; a sync marks INBOX clean only if no notice came in while it ran. */
  private inboxGeneration = 0;
  private readonly syncing = new Map<string, Promise<void>>();
  private readonly prefetching = new Map<string, Promise<void>>();
  private readonly backfilling = new Map<string, Promise<void>>();
  private closing = false;
  /** Foreground reads (check_inbox, read_email, search_email) against background batches: see inbox-foreground.ts. */
  private readonly gate = new ForegroundGate();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    readonly address: string,
    readonly port: MailboxPort,
  ) {}

  /**
   * Brings the cached copy of a folder up to date. `newest`: how many of the newest messages a first sync of a big
   * folder caches before it returns (a listing's page; the backfill caches the rest), FIRST_PAGE by default.
   */
  async sync(folder: string, opts: { force?: boolean; newest?: number } = {}): Promise<void> {
    if (!opts.force && folder === 'INBOX' && this.inboxClean && this.port.watching) return;
    // One sync per folder at a time. A caller arriving during a sync waits for it and then runs its own, since
    // the running one may have started before the change this caller needs to see.
    const running = this.syncing.get(folder);
    if (running) await running.catch(() => undefined);
    let mine = this.syncing.get(folder);
    if (!mine) {
      const generation = this.inboxGeneration;
      const watched = folder === 'INBOX' && this.port.watching;
      mine = this.syncOnce(folder, Math.min(opts.newest ?? FIRST_PAGE, FIRST_PAGE))
        .then(() => {
          if (watched && generation === this.inboxGeneration) this.inboxClean = true;
          void this.backfill(folder);
          void this.prefetchBodies(folder);
        })
        .finally(() => this.syncing.delete(folder));
      this.syncing.set(folder, mine);
    }
    return mine;
  }

  private async syncOnce(folder: string, newest: number): Promise<void> {
    const state = await this.store.getFolderState(this.address, folder);
    const known = state && { ...state, uids: await this.store.cachedUids(this.address, folder, state.uidvalidity) };
    const port = this.port;
    const delta = canBackfill(port) ? await port.syncNewest(folder, known, newest) : { ...(await port.sync(folder, known)), backfill_below: null };
    const now = this.clock();
    await this.store.applyFolderSync(
      {
        state: { mailbox: this.address, folder, ...delta.state, synced_at: now, backfill_below: delta.backfill_below },
        reset: delta.reset,
        upserts: delta.envelopes,
        flagUpdates: delta.flagChanges,
        removed: delta.vanished,
      },
      now,
    );
  }

  /**
   * Caches the older envelopes of a folder whose first sync took only the newest page, in the background; one
   * at a time per folder, resumed from the stored mark after a restart. Resolves when done or stopped.
   */
  backfill(folder: string): Promise<void> {
    const port = this.port;
    if (!canBackfill(port)) return Promise.resolve();
    let running = this.backfilling.get(folder);
    if (!running) {
      running = backfillFolder(
        this.store,
        port,
        this.address,
        folder,
        this.clock,
        () => this.closing,
        () => this.idle(),
        // The body prefetch may have run dry before this batch came in: it picks up the new envelopes.
        () => void this.prefetchBodies(folder),
      )
        .catch((err: unknown) => log('debug', 'envelope backfill stopped; the next sync resumes it', { mailbox: this.address, folder, error: String(err) }))
        .finally(() => this.backfilling.delete(folder));
      this.backfilling.set(folder, running);
    }
    return running;
  }

  /**
   * Runs a foreground read: background batches (backfill, body prefetch) do not start while one runs, nor right
   * after it, so it waits behind the batch already in flight at most, on the connection and on the store alike.
   */
  foreground<T>(read: () => Promise<T>): Promise<T> {
    // The port starts IDLE once the first read has answered (ImapMailbox.watch).
    return this.gate.run(read).finally(() => (this.port as { readAnswered?: () => void }).readAnswered?.());
  }

  private idle(): Promise<void> {
    return this.gate.idle();
  }

  /**
   * Caches first what a read needs from the part of a folder not backfilled yet: the newest `limit` unseen
   * messages for an unread-only listing, or a search's hits. Nothing once the folder is cached whole.
   */
  async cacheOlder(folder: string, query: ServerSearch, limit: number): Promise<number[]> {
    const port = this.port;
    return canBackfill(port) ? cacheOlderMatches(this.store, port, this.address, folder, query, limit, this.clock) : [];
  }

  /** Fetches (one FETCH) and stores, in short transactions, the bodies of those emails that have only an envelope cached. */
  async loadBodies(folder: string, emails: readonly InboundEmail[], opts: { background?: boolean } = {}): Promise<void> {
    const byUid = new Map(emails.filter((e) => !e.has_body && e.uid !== null && e.folder === folder).map((e) => [e.uid!, e]));
    if (byUid.size === 0) return;
    const bodies = await this.port.loadBodies(folder, [...byUid.keys()], opts);
    // Messages the server no longer has are marked fetched (empty) so they are not asked for again.
    const rows = [...byUid].map(([uid, e]) => [e.email_id, bodies.get(uid) ?? EMPTY_BODY] as const);
    for (let i = 0; i < rows.length; i += STORE_CHUNK) await this.store.setEmailBodies(rows.slice(i, i + STORE_CHUNK));
  }

  /** Readies the local index for a search it cannot answer alone (inbox-search.ts); null when the server had nothing to search. */
  searchUnindexed(
    folder: string,
    query: ServerSearch,
    o: Omit<UnindexedOptions, 'loadBodies' | 'now'>,
  ): Promise<{ asked: boolean; unfetched?: number } | null> {
    return searchUnindexed(this.store, this.port, this.address, folder, query, {
      ...o,
      loadBodies: (emails) => this.loadBodies(folder, emails),
      now: this.clock,
    });
  }

  /**
   * Fetches and indexes the bodies of a folder's messages that only have envelopes cached, newest first, in
   * batches (one FETCH and one transaction each). Runs in the background after a sync; one at a time per folder.
   */
  prefetchBodies(folder: string): Promise<void> {
    let running = this.prefetching.get(folder);
    if (!running) {
      running = this.fillBodies(folder)
        .catch((err: unknown) => log('debug', 'body prefetch stopped', { mailbox: this.address, folder, error: String(err) }))
        .finally(() => this.prefetching.delete(folder));
      this.prefetching.set(folder, running);
    }
    return running;
  }

  private async fillBodies(folder: string): Promise<void> {
    for (;;) {
      // The list is read once per round, not per batch (at 100k envelopes that is the difference between one
      // read and thousands); what the backfill adds meanwhile is picked up by the next round.
      const pending = await this.store.unfetchedUids(this.address, folder);
      if (pending.length === 0) return;
      // A big prefetch runs on the background connection (the backfill's), so the agent's reads never queue
      // behind a batch on the wire; between batches it waits for them (idle), and its writes are short.
      const big = !!(await this.store.getFolderState(this.address, folder))?.backfill_below;
      const background = big || pending.length > PREFETCH_OWN_CONNECTION;
      while (pending.length > 0) {
        await this.idle();
        if (this.closing) return;
        // Bodies a read fetched meanwhile are skipped by loadBodies (has_body).
        const batch = await this.nextBatch(folder, pending);
        await this.loadBodies(folder, batch, { background });
        if (!background) await new Promise((r) => setTimeout(r, 20)); // on the shared connection: let reads in
      }
    }
  }

  /** The newest pending emails, up to PREFETCH_BATCH and PREFETCH_BYTES (one at least), taken off `pending`. */
  private async nextBatch(folder: string, pending: number[]): Promise<InboundEmail[]> {
    const uids = pending.slice(-PREFETCH_BATCH);
    const byUid = new Map((await this.store.emailsByUid(this.address, folder, uids)).map((e) => [e.uid, e]));
    const batch: InboundEmail[] = [];
    let bytes = 0;
    let taken = 0;
    for (let i = uids.length - 1; i >= 0; i--) {
      const e = byUid.get(uids[i]!);
      if (e && batch.length > 0 && bytes + (e.size ?? 0) > PREFETCH_BYTES) break;
      taken++;
      if (!e) continue; // gone meanwhile (expunged, or the folder was reset)
      batch.push(e);
      bytes += e.size ?? 0;
    }
    pending.length -= taken;
    return batch;
  }

  /** Applies a tag on the server, then resyncs the folders it touched so the change shows at once. */
  async applyTag(email: InboundEmail, action: TagAction): Promise<TagResult> {
    if (email.uid === null)
      return {
        added: [],
        removed: [],
        moved_to: null,
        refused: { code: 'UNKNOWN_EMAIL', reason: `email ${email.email_id} is not in the IMAP cache any more` },
      };
    const result = await this.port.applyTag({ folder: email.folder, uid: email.uid }, action);
    // Not when IDLE reports it back (about half a second with Dovecot): the caller must see it now.
    await this.sync(email.folder, { force: true }).catch((err: unknown) =>
      log('warn', 'resync after a tag failed', { mailbox: this.address, error: String(err) }),
    );
    if (result.moved_to) await this.sync(result.moved_to, { force: true }).catch(() => undefined);
    return result;
  }

  /**
   * Starts IDLE on INBOX: each notice marks INBOX stale and resyncs it. What the sync stores is signalled by the
   * store (`inbox`), which is how waiters here and on other instances hear of new mail.
   */
  async watch(): Promise<void> {
    await this.port.watch((why) => {
      this.inboxGeneration++;
      this.inboxClean = false;
      void this.sync('INBOX').catch((err: unknown) => log('warn', 'inbox sync after IDLE event failed', { mailbox: this.address, why, error: String(err) }));
    });
  }

  /** Stops IDLE (another instance watches this mailbox now): INBOX is no longer known current, so reads sync again. */
  async unwatch(): Promise<void> {
    this.closing = true;
    this.inboxGeneration++;
    this.inboxClean = false;
    await this.port.unwatch();
    // A sync the last notice started finishes first: the caller may be closing the store next.
    await Promise.allSettled([...this.syncing.values(), ...this.backfilling.values()]);
    this.closing = false;
  }
}

/** One cache per port: its sync and prefetch bookkeeping lives as long as the port's connections do. */
const caches = new WeakMap<MailboxPort, InboxCache>();

/** The inbox cache of a mailbox served by `transport`, or undefined for the sandbox (no port, nothing to cache). */
export function inboxCacheFor(store: Store, clock: () => number, address: string, transport: Transport): InboxCache | undefined {
  const port = transport.mailbox;
  if (!port) return undefined;
  let cache = caches.get(port);
  if (!cache) caches.set(port, (cache = new InboxCache(store, clock, address, port)));
  return cache;
}

/**
 * Applies a held or executed tag: on the server for a real mailbox (the cache follows by resync), in the
 * store for a sandbox one. A refusal is a value (`refused`), never thrown; a transient failure is thrown.
 */
export async function applyTagAction(store: Store, clock: () => number, transport: Transport, action: TagAction): Promise<TagResult> {
  const email = await store.getEmail(action.email_id);
  if (!email) return { added: [], removed: [], moved_to: null, refused: { code: 'UNKNOWN_EMAIL', reason: `email ${action.email_id} no longer exists` } };
  const cache = inboxCacheFor(store, clock, email.mailbox, transport);
  if (cache) return cache.applyTag(email, action);
  await store.applyTag(action);
  // delete_email in the sandbox: its Trash is the folder named so (store/inbox.ts applyTagRow).
  const moveTo = action.delete === 'trash' ? 'Trash' : action.move_to;
  return {
    added: [...action.add_flags],
    removed: [...action.remove_flags],
    moved_to: moveTo && moveTo !== email.folder ? moveTo : null,
    ...(action.delete === 'permanent' ? { deleted: true } : {}),
    refused: null,
  };
}
