/**
 * Regression guard for issue 14: the first check_inbox on a never-synced big folder answers from the newest page
 * (fetched by sequence range) before the rest of the folder's envelopes are cached; the rest is backfilled in the
 * background in batches, resumes after a restart from the stored mark, and then repeat calls come from the cache.
 * Real Dovecot (seeded by writing Maildir files), a real SQLite store, the real ImapMailbox: the only addition
 * is a gate in front of the backfill batches, so the test decides when they may run and counts what they asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/domain/open.js';
import { ImapMailbox } from '../../src/mail/imap/mailbox.js';
import type { KnownFolder } from '../../src/mail/ports.js';
import type { Principal } from '../../src/services/context.js';
import { checkInbox, searchEmail } from '../../src/services/inbox.js';
import { BACKFILL_BATCH } from '../../src/services/inbox-backfill.js';
import { InboxCache, inboxCacheFor } from '../../src/services/inbox-cache.js';
import type { Store } from '../../src/store/store.js';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { createImapMailbox, imapAccount, numberedMessage, portContext, seedMaildir } from '../helpers/imap-port.js';
import { tempDir } from '../helpers/tmp.js';

const TOTAL = 3000;
/** Old messages left unread: an unread-only listing must find them before the backfill reaches them. */
const OLD_UNREAD = [1, 5, 10, 15];
const unread = (i: number) => OLD_UNREAD.includes(i) || i > TOTAL - 5;
const AGENT: Principal = { id: 'agent:test', roles: ['agent'], mailboxes: 'all' };

const raw = (i: number): string => numberedMessage(i, `Body number ${i}, marker zq${i}zq.`);

/** Writes messages 2..TOTAL straight into the user's Maildir (message 1 came over LMTP and created it). */
/** The real port, with each backfill batch held until the test lets it through, and every call recorded. */
class GatedMailbox extends ImapMailbox {
  readonly batches: number[] = [];
  readonly syncs: { reset: boolean; envelopes: number }[] = [];
  /** How many bodies each foreground body FETCH asked for. */
  readonly bodies: number[] = [];
  private allowed = 0;
  private waiters: (() => void)[] = [];
  stopAfterAllowed = false;

  allow(n: number): void {
    this.allowed += n;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Whether the IDLE connection was up when each sync returned. */
  readonly watchingAtSync: boolean[] = [];

  override async syncNewest(folder: string, known: KnownFolder | undefined, newest: number) {
    const delta = await super.syncNewest(folder, known, newest);
    this.syncs.push({ reset: delta.reset, envelopes: delta.envelopes.length });
    this.watchingAtSync.push(this.watching);
    return delta;
  }

  override async loadBodies(folder: string, uids: readonly number[], opts: { background?: boolean } = {}) {
    if (!opts.background) this.bodies.push(uids.length);
    return super.loadBodies(folder, uids, opts);
  }

  override async backfill(folder: string, uidvalidity: number, below: number, batch: number) {
    this.batches.push(below);
    while (this.allowed === 0) {
      if (this.stopAfterAllowed) throw new Error('stopped by the test (a restart)');
      await new Promise<void>((r) => this.waiters.push(r));
    }
    this.allowed--;
    return super.backfill(folder, uidvalidity, below, batch);
  }
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.skipIf(!requireMailServersOrSkip())('a big never-synced folder (real Dovecot, real SQLite)', () => {
  let mail: MailServers;
  let user: MailUser;
  let store: Store;
  const tmp = tempDir('mailgate-first-call-');
  const ports: ImapMailbox[] = [];

  beforeAll(async () => {
    mail = await startMailServers({ users: [] });
    user = await mail.addUser('bulk');
    await mail.deliver(raw(1), user.address);
    seedMaildir(mail.maildir(user.address), 2, TOTAL, raw, unread);
    store = await openStore({ kind: 'sqlite', path: tmp.file('cache.db') });
    await createImapMailbox(store, user.address);
  }, 120_000);
  afterAll(async () => {
    for (const p of ports) await p.close().catch(() => undefined);
    await store?.close();
    await mail?.stop();
    tmp.cleanup();
  });

  const cached = async () => store.cachedCount(user.address, 'INBOX', (await store.getFolderState(user.address, 'INBOX'))!.uidvalidity);

  it('answers the first page from the newest messages, backfills the rest in batches, resumes after a restart', async () => {
    const first = new GatedMailbox(imapAccount(mail, user));
    ports.push(first);
    const ctx = portContext(store, first);

    // The first call: only the newest page was fetched (its envelopes, then its bodies for the snippets), and it is
    // the newest 20 of the folder.
    // IDLE is asked for as a server starts, but comes up only after the first listing: its login, SELECT and resync
    // would compete with it.
    const idle = first.watch(() => undefined);
    const page = await checkInbox(ctx, AGENT, { mailbox: user.address, folder: 'INBOX', unread_only: false, limit: 20 });
    expect(first.watchingAtSync).toEqual([false]);
    await idle;
    expect(first.watching).toBe(true);
    await first.unwatch();
    expect(first.syncs).toEqual([{ reset: true, envelopes: 20 }]);
    expect(first.bodies).toEqual([20]);
    expect(page.map((e) => e.subject)).toEqual(Array.from({ length: 20 }, (_, k) => `Message ${TOTAL - k}`));
    expect(page[0]!.text).toContain(`zq${TOTAL}zq`);
    expect(await cached()).toBe(20);
    const state = (await store.getFolderState(user.address, 'INBOX'))!;
    expect(state.messages).toBe(TOTAL);
    expect(state.backfill_below).toBe(Math.min(...page.map((e) => e.uid!)));

    // A larger page before the backfill's first batch: the newest 50 are fetched first, not answered from 20.
    const bigger = await checkInbox(ctx, AGENT, { mailbox: user.address, folder: 'INBOX', unread_only: false, limit: 50 });
    expect(bigger.map((e) => e.subject)).toEqual(Array.from({ length: 50 }, (_, k) => `Message ${TOTAL - k}`));

    // While the backfill waits: unread-only finds the old unread mail, a search finds an old body; both ask the server.
    const unreadPage = await checkInbox(ctx, AGENT, { mailbox: user.address, folder: 'INBOX', unread_only: true, limit: 20 });
    expect(unreadPage.map((e) => e.subject)).toEqual([
      ...[0, 1, 2, 3, 4].map((k) => `Message ${TOTAL - k}`),
      ...[...OLD_UNREAD].reverse().map((i) => `Message ${i}`),
    ]);
    const found = await searchEmail(ctx, AGENT, { mailbox: user.address, query: 'zq7zq', folder: 'INBOX', limit: 10 });
    expect(found.emails.map((e) => e.subject)).toEqual(['Message 7']);
    expect(found.source).toBe('cache+server');
    expect(found.total).toBe(TOTAL);
    expect(found.indexed).toBeLessThan(TOTAL);
    expect(await cached()).toBeLessThan(TOTAL);

    // One batch, newest first, then a "restart": this instance stops, its mark stays in the store.
    await until(async () => first.batches.length === 1, 'the backfill to ask for its first batch');
    expect(first.batches[0]).toBe(state.backfill_below);
    first.allow(1);
    await until(async () => first.batches.length === 2, 'the first batch to be stored');
    const mark = (await store.getFolderState(user.address, 'INBOX'))!.backfill_below!;
    expect(mark).toBeLessThan(state.backfill_below!);
    expect(await cached()).toBeGreaterThanOrEqual(20 + BACKFILL_BATCH);
    first.stopAfterAllowed = true;
    first.allow(0);
    await inboxCacheFor(store, Date.now, user.address, ctx.transports.forMailbox(undefined as never))!.backfill('INBOX');
    await first.close();

    // A new process: its sync fetches no envelope again, and its backfill starts at the stored mark.
    const second = new GatedMailbox(imapAccount(mail, user));
    ports.push(second);
    second.allow(Number.MAX_SAFE_INTEGER);
    const cache = new InboxCache(store, Date.now, user.address, second);
    await cache.sync('INBOX');
    expect(second.syncs).toEqual([{ reset: false, envelopes: 0 }]);
    await cache.backfill('INBOX');
    expect(second.batches[0]).toBe(mark);
    expect(await cached()).toBe(TOTAL);
    expect((await store.getFolderState(user.address, 'INBOX'))!.backfill_below).toBeUndefined();

    // Now every page comes from the cache: another sync fetches nothing, and the listing is unchanged.
    await cache.sync('INBOX', { force: true });
    expect(second.syncs.at(-1)).toEqual({ reset: false, envelopes: 0 });
    const again = await store.listEmails({ mailbox: user.address, folder: 'INBOX', unread_only: false, limit: 20 });
    expect(again.map((e) => e.email_id)).toEqual(page.map((e) => e.email_id));
    const allUnread = await store.listEmails({ mailbox: user.address, folder: 'INBOX', unread_only: true, limit: 100 });
    expect(allUnread.length).toBe(OLD_UNREAD.length + 5);
  }, 120_000);
});
