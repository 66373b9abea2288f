/**
 * The IMAP side of a real mailbox: reads through the SQLite cache kept current by incremental sync (and by
 * the IDLE watcher for INBOX), bodies fetched on first use, flags and moves applied on the server, and a
 * copy of each sent message appended to the Sent folder.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import type { MailAccount } from '../../config/accounts.js';
import { log } from '../../log.js';
import type { InboundEmail, Store, TagAction } from '../../store/store.js';
import { parseMessage } from '../parse.js';
import { DeliveryError, type MailboxPort } from '../ports.js';
import { ImapConnection } from './connection.js';
import { syncFolder } from './sync.js';
import { InboxWatcher } from './watcher.js';

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
        .then(() => { if (watched && generation === this.inboxGeneration) this.inboxClean = true; })
        .finally(() => this.syncing.delete(folder));
      this.syncing.set(folder, mine);
    }
    return mine;
  }

  async loadBody(email: InboundEmail): Promise<void> {
    if (email.has_body || email.uid === null) return;
    const raw = await this.conn.withFolder(email.folder, async (c) => {
      const msg = await c.fetchOne(String(email.uid), { uid: true, source: { maxLength: MAX_FETCH_BYTES } }, { uid: true });
      return msg ? msg.source : undefined;
    }, { readOnly: true });
    if (!raw) return;
    const parsed = await parseMessage(raw);
    await this.store.setEmailBody(email.email_id, parsed);
  }

  async searchServer(folder: string, query: string, uids: readonly number[]): Promise<number[]> {
    if (uids.length === 0) return [];
    return this.conn.withFolder(folder, async (c) => {
      const found = await c.search({ uid: uids.join(','), body: query }, { uid: true });
      return (found || []) as number[];
    }, { readOnly: true });
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
    const folder = await sentFolder(client);
    await client.append(folder, raw, ['\\Seen']);
  }

  async close(): Promise<void> {
    await this.watcher?.stop();
    await this.conn.close();
  }
}

async function sentFolder(client: ImapFlow): Promise<string> {
  const folders: ListResponse[] = await client.list();
  return folders.find((f) => f.specialUse === '\\Sent')?.path ?? folders.find((f) => /^sent( items| messages)?$/i.test(f.name))?.path ?? 'Sent';
}
