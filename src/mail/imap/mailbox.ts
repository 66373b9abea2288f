/**
 * The IMAP side of a real mailbox, as a MailboxPort: folder deltas computed by incremental sync, bodies
 * fetched and parsed, flags and moves applied on the server, IDLE on INBOX, and a copy of each sent message
 * appended to the Sent folder. It returns what it fetched and writes nothing: the inbox cache service
 * (src/services/inbox-cache.ts) decides when to sync and persists the results.
 */
import type { ImapFlow, ListResponse, MailboxObject } from 'imapflow';
import type { MailAccount } from '../../config/accounts.js';
import { MailgateError } from '../../errors.js';
import type { CachedEnvelope, ParsedBody, TagAction } from '../../store/store.js';
import { parseMessage, preloadParser } from '../parse.js';
import type { KnownFolder, MailboxPort, SyncDelta, TagResult } from '../ports.js';
import { ImapConnection } from './connection.js';
import { isPermanent, serverReason } from './errors.js';
import { type BackfillBatch, backfillBatch, fetchEnvelopes, searchBelow } from './backfill.js';
import { type PartialDelta, syncFolder, uidRanges } from './sync.js';
import { InboxWatcher } from './watcher.js';
import { EarlyBodies } from './early-bodies.js';
import { deleteOnServer } from './delete.js';
import { type ServerSearch, unindexedSearch } from './search-criteria.js';

/** Messages larger than this are parsed only up to it, so one huge mail cannot exhaust memory. */
const MAX_FETCH_BYTES = 8 * 1024 * 1024;
/** How long the IDLE connection waits at start-up for the first sync to begin (an agent's first call comes at once). */
const IDLE_START_MS = 1000;
/** Or this long after the first sync when no read says it has answered (a sync not run by an agent's read). */
const IDLE_AFTER_SYNC_MS = 1000;
/**
 * A first sync's page whose bodies are fetched early (early-bodies.ts): a listing's (check_inbox asks 20 by default),
 * not the 100 a search's first sync caches, whose SEARCH must not queue behind them; and small enough to hold.
 */
const EARLY_MAX = { messages: 50, bytes: 2 * 1024 * 1024 };

export class ImapMailbox implements MailboxPort {
  readonly conn: ImapConnection;
  /**
   * A second connection for the background work, a big folder's envelope backfill (backfill.ts) and the body
   * prefetch, connected on first use, so a foreground command never queues behind a batch.
   */
  private readonly bgConn: ImapConnection;
  private watcher: InboxWatcher | undefined;
  private sentPath: string | undefined;
  /** Set when the command connection's first sync starts; resolved when it ends (watch() waits for it). */
  private firstSync: Promise<unknown> | undefined;
  private firstSyncDone: () => void = () => undefined;
  private readonly firstSynced = new Promise<void>((resolve) => (this.firstSyncDone = resolve));
  private releaseIdle: () => void = () => undefined;
  private readonly idleReleased = new Promise<void>((resolve) => (this.releaseIdle = resolve));
  private readonly early = new EarlyBodies();

  constructor(private readonly account: MailAccount) {
    this.conn = new ImapConnection(account.imap, account.address);
    // Made now (it connects on first use) so close() always closes it: a prefetch still running refuses after it.
    this.bgConn = new ImapConnection(account.imap, `${account.address} (background)`);
  }

  get watching(): boolean {
    return !!this.watcher?.alive;
  }

  async watch(onChange: (why: string) => void): Promise<void> {
    if (this.watcher) return;
    const watcher = new InboxWatcher(
      this.account.imap,
      this.account.address,
      (why) => {
        // The IDLE connection went quiet: the command connection shares its network path, so replace it too.
        if (why === 'heartbeat failed') {
          this.conn.drop('the IDLE connection stopped answering; the network may be down');
          this.bgConn.drop('the IDLE connection stopped answering; the network may be down');
        }
        onChange(why);
      },
      { heartbeatMs: this.account.imap.heartbeatMs },
    );
    this.watcher = watcher;
    // The IDLE connection's login, SELECT and the resync its 'connected' notice runs would compete with the agent's
    // first listing (on the event loop, the command connection, and the server's index of a big folder): it comes up
    // once that read has answered, or when no sync has begun shortly after start-up. That resync picks up anything
    // that arrived meanwhile.
    await this.untilFirstRead();
    await watcher.start();
  }

  /**
   * Gets ready for the agent's first read, once its client has listed the tools (InboxWatchers.warmUp): imapflow
   * loads and the command connection logs in and opens INBOX (~40 ms of round trips here, a few hundred to a
   * distant server), then mailparser loads for the listing's snippets. The read needs all three, and the IDLE
   * connection's first notice resyncs on this connection anyway, so no connection is opened that the session would
   * not open. Nothing waits for it; a failure is met again, and reported, by the read.
   */
  warmUp(): void {
    void this.conn.withFolder('INBOX', async () => undefined).then(preloadParser, () => undefined);
  }

  /** The agent's read was answered (InboxCache.foreground): the IDLE connection may come up now (see watch). */
  readAnswered(): void {
    this.releaseIdle();
  }

  private untilFirstRead(): Promise<void> {
    return new Promise((resolve) => {
      const go = () => {
        clearTimeout(timer);
        resolve();
      };
      // unref: a server stopping before IDLE came up does not wait for these.
      const timer = setTimeout(() => {
        if (!this.firstSync) resolve();
      }, IDLE_START_MS).unref();
      void this.idleReleased.then(go);
      void this.firstSynced.then(() => setTimeout(go, IDLE_AFTER_SYNC_MS).unref());
    });
  }

  /** Runs a sync on the command connection, noting the first one (see watch). */
  private syncing<T>(run: () => Promise<T>): Promise<T> {
    if (this.firstSync) return run();
    const p = run();
    this.firstSync = p;
    void p.catch(() => undefined).finally(this.firstSyncDone);
    return p;
  }

  async unwatch(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.stop();
  }

  async sync(folder: string, known: KnownFolder | undefined): Promise<SyncDelta> {
    const delta = await this.syncing(() => syncFolder(this.conn, folder, known));
    this.early.seen(folder, delta.state.uidvalidity);
    return delta;
  }

  // Big folders (backfill.ts): a first sync of the newest page only, then older envelopes in batches.
  async syncNewest(folder: string, known: KnownFolder | undefined, newest: number): Promise<PartialDelta> {
    if (!known) preloadParser(); // a first sync: the listing after it parses the page's bodies
    const delta = await this.syncing(() => syncFolder(this.conn, folder, known, { newest }));
    this.early.seen(folder, delta.state.uidvalidity);
    // A first sync's page: the listing asks for its bodies next (early-bodies.ts).
    const uids = delta.envelopes.map((e) => e.uid);
    const bytes = delta.envelopes.reduce((sum, e) => sum + (e.size ?? 0), 0);
    if (delta.reset && uids.length <= Math.min(newest, EARLY_MAX.messages) && bytes <= EARLY_MAX.bytes)
      this.early.start(folder, delta.state.uidvalidity, uids, () => fetchBodies(this.conn, folder, uids));
    return delta;
  }
  backfill(folder: string, uidvalidity: number, below: number, batch: number): Promise<BackfillBatch | null> {
    return backfillBatch(this.bgConn, folder, uidvalidity, below, batch);
  }
  searchBelow(folder: string, below: number, query: ServerSearch): Promise<number[]> {
    return searchBelow(this.conn, this.account.address, folder, below, query);
  }
  fetchEnvelopes(folder: string, uidvalidity: number, uids: readonly number[]): Promise<CachedEnvelope[] | null> {
    return fetchEnvelopes(this.conn, folder, uidvalidity, uids);
  }

  async searchServer(folder: string, query: string, uids: readonly number[]): Promise<number[]> {
    if (uids.length === 0) return [];
    return this.conn.withFolder(
      folder,
      async (c) => {
        // As ranges (1:9980,9982): a plain list of 14,000 UIDs is a command servers refuse as too long.
        const found = await c.search({ uid: uidRanges(uids), body: query }, { uid: true });
        // imapflow answers false when the server refused the search: that is a failure, not "no hits".
        if (found === false) throw new MailgateError('UNAVAILABLE', `${this.account.address}: the IMAP server refused the search; retry, or narrow the query`);
        return found ?? [];
      },
      // SELECTed like a sync, so the two do not make the server reopen the folder in turn; a search changes nothing.
    );
  }

  /**
   * One UID SEARCH over what the local index cannot answer (services/inbox-search.ts): a range of messages below
   * the backfill mark (not cached: every criterion of the question) and cached ones whose bodies are not fetched
   * yet (`unfetched`: the text alone, the store checks their envelopes). Ascending UIDs.
   */
  async searchUnindexed(folder: string, uncached: { from: number; to: number } | null, query: ServerSearch, unfetched: readonly number[]): Promise<number[]> {
    const cached = unfetched.length > 0 && query.text !== undefined ? uidRanges(unfetched) : null;
    const criteria = unindexedSearch(uncached && uncached.from <= uncached.to ? `${uncached.from}:${uncached.to}` : null, query, cached);
    if (!criteria) return [];
    return this.conn.withFolder(folder, async (c) => {
      const found = await c.search(criteria, { uid: true });
      if (found === false) throw new MailgateError('UNAVAILABLE', `${this.account.address}: the IMAP server refused the search; retry, or narrow the query`);
      return (found ?? []).sort((a, b) => a - b);
    });
  }

  /** One UID FETCH for all the given messages of a folder, parsed (the prefetch's on the background connection). */
  async loadBodies(folder: string, uids: readonly number[], opts: { background?: boolean } = {}): Promise<Map<number, ParsedBody>> {
    const { got, rest } = await this.early.take(folder, uids);
    if (rest.length === 0) return got;
    const fetched = await fetchBodies(opts.background ? this.bgConn : this.conn, folder, rest);
    return got.size === 0 ? fetched : new Map([...got, ...fetched]);
  }

  /**
   * Flags added, then removed, then the move; each step only if the one before was accepted. A step the
   * server refuses for good ends the tag as refused with the server's reason, on a connection that stays up.
   */
  async applyTag(email: { folder: string; uid: number }, change: Omit<TagAction, 'email_id'>): Promise<TagResult> {
    const result: TagResult = { added: [], removed: [], moved_to: null, refused: null };
    const uid = String(email.uid);
    const label = this.account.address;
    await this.conn.withFolder(email.folder, async (c) => {
      const refuse = (what: string, answer: NonNullable<Awaited<ReturnType<ImapConnection['refusalOf']>>>): void => {
        // The server said to try later (RFC 5530 INUSE, UNAVAILABLE ...): a retryable failure, not a refusal.
        if (!isPermanent(answer))
          throw new MailgateError('UNAVAILABLE', `${label}: the IMAP server cannot do ${what} now: ${serverReason(answer)}; retry shortly`);
        result.refused = { code: 'MAIL_REFUSED', reason: `${what}: ${serverReason(answer)}` };
      };
      if (change.delete) return deleteOnServer(this.conn, c, email, change.delete, result, refuse);
      if (change.add_flags.length) {
        // imapflow silently drops flags the folder does not allow (PERMANENTFLAGS, RFC 3501 §7.1): ask first.
        const denied = change.add_flags.filter((f) => !flagAllowed(c.mailbox as MailboxObject, f));
        if (denied.length) {
          result.refused = {
            code: 'MAIL_REFUSED',
            reason: `adding ${denied.join(', ')}: folder '${email.folder}' does not allow ${denied.length > 1 ? 'these flags' : 'this flag'} (PERMANENTFLAGS)`,
          };
          return;
        }
        const answer = await this.conn.refusalOf(() => c.messageFlagsAdd(uid, change.add_flags, { uid: true }));
        if (answer) return refuse(`adding ${change.add_flags.join(', ')}`, answer);
        result.added = [...change.add_flags];
      }
      if (change.remove_flags.length) {
        const answer = await this.conn.refusalOf(() => c.messageFlagsRemove(uid, change.remove_flags, { uid: true }));
        if (answer) return refuse(`removing ${change.remove_flags.join(', ')}`, answer);
        result.removed = [...change.remove_flags];
      }
      if (change.move_to && change.move_to !== email.folder) {
        const answer = await this.conn.refusalOf(() => c.messageMove(uid, change.move_to!, { uid: true }));
        if (answer) return refuse(`moving the email to '${change.move_to}'`, answer);
        result.moved_to = change.move_to;
      }
    });
    return result;
  }

  /** Appends a sent message to the special-use \Sent folder (RFC 6154), marked \Seen. */
  async appendSent(raw: Buffer): Promise<void> {
    const client = await this.conn.get();
    this.sentPath ??= await sentFolder(client);
    await client.append(this.sentPath, raw, ['\\Seen']);
  }

  async close(): Promise<void> {
    await this.watcher?.stop();
    await this.bgConn.close();
    await this.conn.close();
  }
}

async function fetchBodies(conn: ImapConnection, folder: string, uids: readonly number[]): Promise<Map<number, ParsedBody>> {
  const bodies = new Map<number, ParsedBody>();
  if (uids.length === 0) return bodies;
  const raws: [number, Buffer][] = [];
  // SELECT, not EXAMINE, like the syncs on the same connection: each switch makes the server reopen the folder
  // (a quarter of a second on a 10,000-message Maildir). imapflow fetches with BODY.PEEK: \Seen is never set.
  await conn.withFolder(folder, async (c) => {
    const fetch = async (wanted: readonly number[]) => {
      for await (const msg of c.fetch(uidRanges(wanted), { uid: true, source: { maxLength: MAX_FETCH_BYTES } }, { uid: true })) {
        if (msg.source) raws.push([msg.uid, msg.source]);
      }
    };
    await fetch(uids);
    // A session answers only for messages it has been told of: mail that arrived since this connection last
    // asked (the sync ran on the other one) needs a NOOP first, or it would be taken for expunged.
    const missing = uids.filter((uid) => !raws.some(([got]) => got === uid));
    if (missing.length) {
      await c.noop();
      await fetch(missing);
    }
  });
  // Parsed after the folder lock is released, so a slow parse does not hold up other commands.
  // One at a time, each raw message dropped once parsed.
  for (let next = raws.shift(); next; next = raws.shift()) {
    bodies.set(next[0], await parseMessage(next[1]));
    // A turn of the event loop between messages: a prefetch batch parsing 200 of them must not delay a read's I/O.
    await new Promise((r) => setImmediate(r));
  }
  return bodies;
}

function flagAllowed(box: MailboxObject, flag: string): boolean {
  const allowed = box.permanentFlags;
  return !allowed || allowed.has('\\*') || allowed.has(flag);
}

async function sentFolder(client: ImapFlow): Promise<string> {
  const folders: ListResponse[] = await client.list();
  return folders.find((f) => f.specialUse === '\\Sent')?.path ?? folders.find((f) => /^sent( items| messages)?$/i.test(f.name))?.path ?? 'Sent';
}
