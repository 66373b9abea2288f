/**
 * The IMAP side of a real mailbox: reads through the SQLite cache kept current by incremental sync (and by
 * the IDLE watcher for INBOX), bodies fetched on first use, flags and moves applied on the server, and a
 * copy of each sent message appended to the Sent folder.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import type { MailAccount } from '../../config/accounts.js';
import { log } from '../../log.js';
import { MailgateError } from '../../errors.js';
import type { InboundEmail, ParsedBody, Store, TagAction } from '../../store/store.js';
import { parseMessage } from '../parse.js';
import { DeliveryError, type MailboxPort } from '../ports.js';
import { ImapConnection } from './connection.js';
import { syncFolder } from './sync.js';
import { InboxWatcher } from './watcher.js';

const PREFETCH_BATCH = 25;
const PREFETCH_PAUSE_MS = 20;
const EMPTY_BODY: ParsedBody = { text: null, html: null, references_header: null, in_reply_to_header: null, attachments: [] };

/** Messages larger than this are parsed only up to it, so one huge mail cannot exhaust memory. */
const MAX_FETCH_BYTES = 8 * 1024 * 1024;

export class ImapMailbox implements MailboxPort {
  readonly conn: ImapConnection;
  private watcher: InboxWatcher | undefined;
  /** INBOX is known current: synced since the watcher last reported a change. */
  private inboxClean = false;
  /** Bumped by every watcher notice; a sync marks INBOX clean only if no notice came in while it ran. */
  private inboxGeneration = 0;
  private syncing = new Map<string, Promise<void>>();
  private prefetching = new Map<string, Promise<void>>();
  private closed = false;
  private sentPath: string | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly account: MailAccount, private readonly store: Store, private readonly clock: () => number) {
    this.conn = new ImapConnection(account.imap, account.address);
  }

  /** Starts IDLE on INBOX; changes trigger a sync so waiters (mail_wait) see new mail within moments. */
  async watch(): Promise<void> {
    if (this.watcher) return;
    this.watcher = new InboxWatcher(this.account.imap, this.account.address, (why) => {
      this.inboxGeneration++;
      this.inboxClean = false;
      if (why === 'heartbeat failed') this.conn.drop('the IDLE connection stopped answering; the network may be down');
      void this.sync('INBOX').then(() => this.listeners.forEach((l) => l()), (err: unknown) =>
        log('warn', 'inbox sync after IDLE event failed', { mailbox: this.account.address, why, error: String(err) }));
    }, { heartbeatMs: this.account.imap.heartbeatMs });
    await this.watcher.start();
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async sync(folder: string, opts: { force?: boolean } = {}): Promise<void> {
    if (!opts.force && folder === 'INBOX' && this.inboxClean && this.watcher?.alive) return;
    // One sync per folder at a time. A caller arriving during a sync waits for it and then runs its own, since
    // the running one may have started before the change this caller needs to see.
    const running = this.syncing.get(folder);
    if (running) await running.catch(() => undefined);
    let mine = this.syncing.get(folder);
    if (!mine) {
      const generation = this.inboxGeneration;
      const watched = folder === 'INBOX' && !!this.watcher?.alive;
      mine = syncFolder(this.conn, this.store, this.account.address, folder, this.clock)
        .then(() => {
          if (watched && generation === this.inboxGeneration) this.inboxClean = true;
          void this.prefetchBodies(folder);
        })
        .finally(() => this.syncing.delete(folder));
      this.syncing.set(folder, mine);
    }
    return mine;
  }

  async searchServer(folder: string, query: string, uids: readonly number[]): Promise<number[]> {
    if (uids.length === 0) return [];
    return this.conn.withFolder(folder, async (c) => {
      // As ranges (1:9980,9982): a plain list of 14,000 UIDs is a command servers refuse as too long.
      const found = await c.search({ uid: uidRanges(uids), body: query }, { uid: true });
      // imapflow answers false when the server refused the search: that is a failure, not "no hits".
      if (found === false) throw new MailgateError('UNAVAILABLE', `${this.account.address}: the IMAP server refused the search; retry, or narrow the query`);
      return found ?? [];
    }, { readOnly: true });
  }

  /**
   * Fetches and indexes the bodies of a folder's messages that only have envelopes cached, newest first, in
   * batches (one FETCH and one transaction each), so that searches come to be answered by the local index
   * alone. Runs in the background after a sync; one at a time per folder.
   */
  prefetchBodies(folder: string): Promise<void> {
    let running = this.prefetching.get(folder);
    if (!running) {
      running = this.fillBodies(folder).catch((err: unknown) => log('debug', 'body prefetch stopped', { folder, error: String(err) }))
        .finally(() => this.prefetching.delete(folder));
      this.prefetching.set(folder, running);
    }
    return running;
  }

  private async fillBodies(folder: string): Promise<void> {
    for (;;) {
      const uids = (await this.store.unfetchedUids(this.account.address, folder)).slice(-PREFETCH_BATCH);
      if (uids.length === 0 || this.closed) return;
      const emails = await this.store.emailsByUid(this.account.address, folder, uids);
      await this.loadBodies(folder, emails);
      // Small batches and a pause between them: the prefetch shares the connection (and the event loop) with
      // the agent's own reads, which must not queue behind it.
      await new Promise((r) => setTimeout(r, PREFETCH_PAUSE_MS));
    }
  }

  /** One UID FETCH for all the given messages of a folder, then their bodies stored in one transaction. */
  async loadBodies(folder: string, emails: readonly InboundEmail[]): Promise<void> {
    const byUid = new Map(emails.filter((e) => !e.has_body && e.uid !== null).map((e) => [e.uid!, e]));
    if (byUid.size === 0) return;
    const raws: [InboundEmail, Buffer][] = [];
    await this.conn.withFolder(folder, async (c) => {
      for await (const msg of c.fetch(uidRanges([...byUid.keys()]), { uid: true, source: { maxLength: MAX_FETCH_BYTES } }, { uid: true })) {
        const email = byUid.get(msg.uid);
        if (email && msg.source) raws.push([email, msg.source]);
      }
    }, { readOnly: true });
    const parsed = await Promise.all(raws.map(async ([e, raw]) => [e.email_id, await parseMessage(raw)] as const));
    // Messages the server no longer has are marked fetched (empty) so they are not asked for again.
    const found = new Set(raws.map(([e]) => e.email_id));
    const gone = [...byUid.values()].filter((e) => !found.has(e.email_id)).map((e) => [e.email_id, EMPTY_BODY] as const);
    await this.store.setEmailBodies([...parsed, ...gone]);
  }

  async applyTag(action: TagAction): Promise<void> {
    const email = await this.store.getEmail(action.email_id);
    if (!email || email.uid === null) throw new DeliveryError(`email ${action.email_id} is not in the IMAP cache any more`, 'permanent');
    const uid = String(email.uid);
    await this.conn.withFolder(email.folder, async (c) => {
      if (action.add_flags.length) await c.messageFlagsAdd(uid, action.add_flags, { uid: true });
      if (action.remove_flags.length) await c.messageFlagsRemove(uid, action.remove_flags, { uid: true });
      if (action.move_to && action.move_to !== email.folder) {
        const moved = await c.messageMove(uid, action.move_to, { uid: true });
        if (!moved) throw new DeliveryError(`could not move the email to ${action.move_to}`, 'permanent');
      }
    });
    // The change must show at once, not when IDLE reports it back (about half a second with Dovecot).
    await this.sync(email.folder, { force: true });
    if (action.move_to) await this.sync(action.move_to, { force: true }).catch(() => undefined);
  }

  /** Appends a sent message to the special-use \Sent folder (RFC 6154), marked \Seen. */
  async appendSent(raw: Buffer): Promise<void> {
    const client = await this.conn.get();
    this.sentPath ??= await sentFolder(client);
    await client.append(this.sentPath, raw, ['\\Seen']);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.watcher?.stop();
    await this.conn.close();
  }
}

async function sentFolder(client: ImapFlow): Promise<string> {
  const folders: ListResponse[] = await client.list();
  return folders.find((f) => f.specialUse === '\\Sent')?.path ?? folders.find((f) => /^sent( items| messages)?$/i.test(f.name))?.path ?? 'Sent';
}

/** Compresses UIDs into an IMAP sequence set of ranges: [1,2,3,7] -> "1:3,7". */
export function uidRanges(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i]!;
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i]! + 1) i++;
    parts.push(start === sorted[i] ? String(start) : `${start}:${sorted[i]}`);
  }
  return parts.join(',');
}
