/**
 * One IMAP watcher (IDLE on INBOX and the syncs it triggers: inbox-cache.ts) per mailbox across every instance on
 * the database, so N instances open one IDLE connection and run one sync per account, not N (servers limit
 * connections: Dovecot allows 10 per user and IP). The instance holding the lease `imap-watch:ADDRESS` watches and
 * renews it at a third of its time; the others try to take it on the same timer and at once when a holder gives it
 * up (a `lease` signal), so a closed instance is replaced at once and a killed one when its lease runs out.
 *
 * What the watcher stores is signalled (`inbox`), so mail_wait wakes on every instance. Reads that need the server
 * (check_inbox, read_email) still work everywhere: without IDLE here, an instance's cache syncs before it answers.
 */
import { newLeaseOwner } from '../lease.js';
import { log } from '../log.js';
import type { TransportRegistry } from '../mail/ports.js';
import type { Store } from '../store/store.js';
import { type InboxCache, inboxCacheFor } from './inbox-cache.js';

export interface WatchOptions {
  /** How long a lease holds without renewal: how long a killed holder's mailboxes go unwatched, at most. */
  leaseMs?: number;
}

const leaseName = (address: string) => `imap-watch:${address}`;

export class InboxWatchers {
  /** host:pid:random, like the delivery worker's lease owner. */
  readonly owner = newLeaseOwner();
  private readonly leaseMs: number;
  /** The mailboxes watched here, each with the time its lease surely lasts until (by this clock). */
  private readonly held = new Map<string, { cache: InboxCache; until: number }>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly transports: TransportRegistry,
    opts: WatchOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 30_000;
  }

  /** Takes the leases that are free and starts watching those mailboxes; then keeps at it on a timer. */
  async start(): Promise<void> {
    this.poke();
    await this.running;
    this.timer = setInterval(() => this.poke(), Math.max(Math.floor(this.leaseMs / 3), 10));
    this.timer.unref();
  }

  /** Renews and tries the leases now (a holder gave one up); a call during a round gets one more round after it. */
  poke(): void {
    if (this.stopped) return;
    this.again = true;
    this.running ??= this.loop().finally(() => (this.running = undefined));
  }

  /** The mailboxes this instance watches now. */
  watching(): string[] {
    return [...this.held.keys()];
  }

  /** Stops watching and gives every lease up, signalled, so other instances take over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    for (const address of [...this.held.keys()]) await this.release(address, 'this instance is stopping');
  }

  private async loop(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        await this.round();
      } catch (err) {
        log('warn', 'could not check the IMAP watcher leases; will try again', { error: String(err) });
      }
    }
  }

  private async round(): Promise<void> {
    const seen = new Set<string>();
    for (const mb of await this.store.listMailboxes()) {
      if (this.stopped) return;
      if (mb.transport === 'sandbox' || !this.transports.canServe(mb)) continue;
      const cache = inboxCacheFor(this.store, this.clock, mb.address, this.transports.forMailbox(mb));
      if (!cache) continue;
      seen.add(mb.address);
      await this.keep(mb.address, cache);
    }
    // A mailbox removed, or no longer served here, is not watched by this instance any more.
    for (const address of this.held.keys()) if (!seen.has(address)) await this.release(address, 'the mailbox is no longer served here');
  }

  /**
   * The agent's first read is likely soon (serve calls this once its client has listed the tools): each mailbox
   * this instance watches gets ready for it (ImapMailbox.warmUp: the libraries loaded, INBOX open). A server's
   * start-up does none of it, so the handshake is not held up (README "Performance").
   */
  warmUp(): void {
    for (const [address, { cache }] of this.held) {
      log('debug', 'getting ready for the first read', { mailbox: address });
      cache.port.warmUp?.();
    }
  }

  /** Renews or takes the mailbox's lease, and starts or stops its watcher to match. */
  private async keep(address: string, cache: InboxCache): Promise<void> {
    const held = this.held.get(address);
    const now = this.clock();
    let mine: boolean;
    try {
      mine = await this.store.acquireLease(leaseName(address), this.owner, this.leaseMs, now);
    } catch (err) {
      // The database did not answer: a held lease is still ours until it would have run out, not beyond.
      mine = !!held && this.clock() < held.until;
      log('warn', 'could not renew the IMAP watcher lease', { mailbox: address, error: String(err), watching: mine });
      if (!mine && held) await this.stopWatching(address, held.cache, 'its lease could not be renewed');
      return;
    }
    if (mine && held) held.until = now + this.leaseMs;
    else if (mine) {
      this.held.set(address, { cache, until: now + this.leaseMs });
      log('info', 'watching the mailbox for this and every other instance', { mailbox: address });
      // Not awaited: the lease is what other instances go by, and the IDLE connection (loading imapflow, then
      // connect, login, SELECT: up to a second on a big Maildir) must not hold up the server's start-up. It never
      // throws; it retries by itself.
      void cache.watch();
    } else if (held) await this.stopWatching(address, held.cache, 'another instance holds its lease');
  }

  private async stopWatching(address: string, cache: InboxCache, why: string): Promise<void> {
    this.held.delete(address);
    log('info', 'stopped watching the mailbox', { mailbox: address, why });
    await cache.unwatch().catch((err: unknown) => log('warn', 'could not stop the IMAP watcher', { mailbox: address, error: String(err) }));
  }

  private async release(address: string, why: string): Promise<void> {
    const held = this.held.get(address);
    if (!held) return;
    await this.stopWatching(address, held.cache, why);
    await this.store
      .dropLease(leaseName(address), this.owner)
      .catch((err: unknown) => log('warn', 'could not give up the IMAP watcher lease; it runs out by itself', { mailbox: address, error: String(err) }));
  }
}
