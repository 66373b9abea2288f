/**
 * Regression guard for issue 14's search right after start: what the local index lacks is asked of the server newest
 * first, one UID window at a time, and the windows stop once the page is full, so a common word in a big folder does
 * not make the server read every message; a rare word still reaches the oldest message, and a search with filters
 * asks about the whole folder at once. Real Dovecot (seeded by writing Maildir files), a real SQLite store, the real
 * ImapMailbox; the test only records which UID ranges each SEARCH covered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/domain/open.js';
import { ImapMailbox } from '../../src/mail/imap/mailbox.js';
import type { ServerSearch } from '../../src/mail/imap/search-criteria.js';
import type { AppContext, Principal } from '../../src/services/context.js';
import { checkInbox, searchEmail } from '../../src/services/inbox.js';
import type { Store } from '../../src/store/store.js';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { createImapMailbox, imapAccount, numberedMessage, portContext, seedMaildir } from '../helpers/imap-port.js';
import { tempDir } from '../helpers/tmp.js';

/** More than one window (4096 UIDs), so the first one cannot cover the folder. */
const TOTAL = 6000;
const AGENT: Principal = { id: 'agent:test', roles: ['agent'], mailboxes: 'all' };

// Every body has "number"; one in a hundred has "walrus"; one has its own marker.
const raw = (i: number): string => numberedMessage(i, `Body number ${i}${i % 100 === 7 ? ' walrus' : ''}, marker zq${i}zq.`);

/** The real port; every windowed SEARCH's UID range below the backfill mark is recorded (null: none). */
class RecordingMailbox extends ImapMailbox {
  readonly windows: ({ from: number; to: number } | null)[] = [];

  override searchUnindexed(folder: string, uncached: { from: number; to: number } | null, query: ServerSearch, unfetched: readonly number[]) {
    this.windows.push(uncached);
    return super.searchUnindexed(folder, uncached, query, unfetched);
  }

  // Never backfills: the test keeps the folder as a first listing leaves it.
  override async backfill() {
    return null;
  }
}

describe.skipIf(!requireMailServersOrSkip())('search_email on a big folder right after start (real Dovecot, real SQLite)', () => {
  let mail: MailServers;
  let user: MailUser;
  let store: Store;
  let port: RecordingMailbox;
  let ctx: AppContext;
  const tmp = tempDir('mailgate-search-windows-');

  beforeAll(async () => {
    mail = await startMailServers({ users: [] });
    user = await mail.addUser('bulk');
    await mail.deliver(raw(1), user.address);
    seedMaildir(mail.maildir(user.address), 2, TOTAL, raw);
    store = await openStore({ kind: 'sqlite', path: tmp.file('cache.db') });
    await createImapMailbox(store, user.address);
    port = new RecordingMailbox(imapAccount(mail, user));
    ctx = portContext(store, port);
    // The first listing caches the newest 20 only; the rest stays uncached (no backfill here).
    await checkInbox(ctx, AGENT, { mailbox: user.address, folder: 'INBOX', unread_only: false, limit: 20 });
  }, 120_000);
  afterAll(async () => {
    await port?.close().catch(() => undefined);
    await store?.close();
    await mail?.stop();
    tmp.cleanup();
  });

  const search = (query: string, limit: number, filters = {}) => searchEmail(ctx, AGENT, { mailbox: user.address, query, folder: 'INBOX', filters, limit });

  it('a common word: the newest page, from the newest window alone', async () => {
    port.windows.length = 0;
    const r = await search('walrus', 10);
    // Message i has the word when i % 100 === 7: the newest ten of them.
    expect(r.emails.map((e) => e.subject)).toEqual(Array.from({ length: 10 }, (_, k) => `Message ${5907 - 100 * k}`));
    expect(r.source).toBe('cache+server');
    expect(r.total).toBe(TOTAL);
    expect(port.windows).toHaveLength(1);
    expect(port.windows[0]!.from).toBeGreaterThan(1);
    expect(port.windows[0]!.to - port.windows[0]!.from + 1).toBeLessThan(TOTAL);
  });

  it('a rare word: windows go on down to the oldest message', async () => {
    port.windows.length = 0;
    const r = await search('zq3zq', 10);
    expect(r.emails.map((e) => e.subject)).toEqual(['Message 3']);
    expect(port.windows.length).toBeGreaterThan(1);
    expect(port.windows.at(-1)!.from).toBe(1);
  });

  it('with a filter, every hit may be on the page: one window over the whole folder', async () => {
    port.windows.length = 0;
    const r = await search('walrus', 5, { subject: 'Message 10' });
    // Subjects containing "Message 10" among those with the word: 1007, 107 (and 10xx with xx = 07).
    expect(r.emails.map((e) => e.subject)).toEqual(['Message 1007', 'Message 107']);
    expect(port.windows).toHaveLength(1);
    expect(port.windows[0]!.from).toBe(1);
  });
});
