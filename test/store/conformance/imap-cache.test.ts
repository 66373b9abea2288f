/**
 * The IMAP cache: applyFolderSync keeps one row per (mailbox, folder, UIDVALIDITY, UID) and the folder's sync
 * state, in one transaction; bodies arrive later through setEmailBody.
 */
import { describe, expect, it } from 'vitest';
import type { CachedEnvelope, FolderState, FolderSync } from '../../../src/store/store.js';
import { ALICE, BOB, T0, addMailbox, allEmails, inboundEmail, useStore } from '../fixtures.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE);
  await addMailbox(s, BOB);
});

const UV = 1_700_000_001;

function state(over: Partial<FolderState> = {}): FolderState {
  return { mailbox: ALICE, folder: 'INBOX', uidvalidity: UV, uidnext: 4, highestmodseq: '100', messages: 3, special_use: null, synced_at: T0, ...over };
}

function envelope(uid: number, over: Partial<CachedEnvelope> = {}): CachedEnvelope {
  return {
    uid,
    from_addr: `sender${uid}@example.org`,
    from_name: `Sender ${uid}`,
    to: [ALICE],
    cc: [],
    subject: `Subject ${uid}`,
    message_id_header: `<${uid}@example.org>`,
    in_reply_to_header: null,
    flags: [],
    size: 1000 + uid,
    date: T0 - uid,
    ...over,
  };
}

const sync = (over: Partial<FolderSync> = {}): FolderSync => ({ state: state(), reset: false, upserts: [], flagUpdates: [], removed: [], ...over });
const firstSync = (upserts = [envelope(1), envelope(2, { flags: ['\\Seen'] }), envelope(3)]) => db.s.applyFolderSync(sync({ reset: true, upserts }), T0);

/** The cached rows of a folder by UID, as the Store shows them. */
const rows = async (mailbox = ALICE, folder = 'INBOX') =>
  (await db.s.listEmails({ mailbox, folder, unread_only: false, limit: 1000 }))
    .sort((x, y) => (x.uid ?? 0) - (y.uid ?? 0))
    .map(({ uid, uidvalidity, subject, flags, unread, has_body, source }) => ({ uid, uidvalidity, subject, flags, unread, has_body, source }));
const everyEmail = async () => (await allEmails(db.s)).sort((x, y) => x.email_id.localeCompare(y.email_id));
const byUid = async (uid: number, folder = 'INBOX') => (await db.s.emailsByUid(ALICE, folder, [uid]))[0];

describe('a first sync', () => {
  it('inserts each envelope once, without its body, and returns the new ids', async () => {
    const ids = await firstSync();
    expect(ids.length).toBe(3);
    expect(new Set(ids).size).toBe(3);
    expect(await rows()).toEqual([
      { uid: 1, uidvalidity: UV, subject: 'Subject 1', flags: [], unread: true, has_body: false, source: 'imap' },
      { uid: 2, uidvalidity: UV, subject: 'Subject 2', flags: ['\\Seen'], unread: false, has_body: false, source: 'imap' },
      { uid: 3, uidvalidity: UV, subject: 'Subject 3', flags: [], unread: true, has_body: false, source: 'imap' },
    ]);
    const email = await db.s.getEmail(ids[0]!);
    expect(email).toMatchObject({
      mailbox: ALICE,
      folder: 'INBOX',
      source: 'imap',
      uid: 1,
      uidvalidity: UV,
      size: 1001,
      has_body: false,
      attachments: [],
      from_addr: 'sender1@example.org',
      from_name: 'Sender 1',
      to: [ALICE],
      cc: [],
      message_id_header: '<1@example.org>',
      text: null,
      html: null,
      date: T0 - 1,
      received_at: T0,
    });
    expect(await db.s.cachedUids(ALICE, 'INBOX', UV)).toEqual([1, 2, 3]);
    expect(await db.s.cachedUids(ALICE, 'INBOX', UV + 1)).toEqual([]);
  });

  it('stores the folder state, and a later sync replaces it', async () => {
    expect(await db.s.getFolderState(ALICE, 'INBOX')).toBeUndefined();
    await firstSync();
    expect(await db.s.getFolderState(ALICE, 'INBOX')).toEqual(state());
    const later = state({ uidnext: 9, highestmodseq: '18446744073709551615', messages: 5, special_use: '\\Inbox', synced_at: T0 + 60_000 });
    await db.s.applyFolderSync(sync({ state: later }), T0 + 60_000);
    expect(await db.s.getFolderState(ALICE, 'INBOX')).toEqual(later);
    expect(await db.s.getFolderState(ALICE, 'Archive')).toBeUndefined();
    expect(await db.s.getFolderState(BOB, 'INBOX')).toBeUndefined();
  });
});

describe('a repeat sync', () => {
  it('upserting a UID already cached updates its flags only, with no second row and no new id', async () => {
    const [first] = await firstSync();
    const again = await db.s.applyFolderSync(sync({ upserts: [envelope(1, { flags: ['\\Seen', '\\Flagged'], subject: 'Changed subject', size: 1 })] }), T0 + 1);
    expect(again).toEqual([]);
    expect((await allEmails(db.s)).filter((e) => e.uid === 1).length).toBe(1);
    expect(await byUid(1)).toMatchObject({ email_id: first, flags: ['\\Seen', '\\Flagged'], unread: false, subject: 'Subject 1', size: 1001, received_at: T0 });
    await db.s.applyFolderSync(sync({ upserts: [envelope(1, { flags: [] })] }), T0 + 2);
    expect(await byUid(1)).toMatchObject({ email_id: first, flags: [], unread: true });
  });

  it('new UIDs are inserted beside the cached ones and only they are returned', async () => {
    await firstSync();
    const ids = await db.s.applyFolderSync(sync({ upserts: [envelope(3), envelope(4), envelope(5)] }), T0 + 1);
    expect(ids.length).toBe(2);
    expect((await db.s.emailsByUid(ALICE, 'INBOX', [4, 5])).map((e) => e.email_id).sort()).toEqual([...ids].sort());
    expect(await db.s.cachedUids(ALICE, 'INBOX', UV)).toEqual([1, 2, 3, 4, 5]);
  });

  it('flagUpdates set flags and unread on the cached UIDs and ignore unknown ones', async () => {
    await firstSync();
    await db.s.applyFolderSync(
      sync({
        flagUpdates: [
          { uid: 1, flags: ['\\Seen'] },
          { uid: 2, flags: ['\\Answered'] },
          { uid: 99, flags: ['\\Seen'] },
        ],
      }),
      T0 + 1,
    );
    expect((await rows()).map((r) => [r.uid, r.flags, r.unread])).toEqual([
      [1, ['\\Seen'], false],
      [2, ['\\Answered'], true],
      [3, [], true],
    ]);
    expect((await allEmails(db.s)).length).toBe(3);
  });

  it('removed drops those UIDs only', async () => {
    const [, two] = await firstSync();
    await db.s.applyFolderSync(sync({ removed: [1, 3, 99] }), T0 + 1);
    expect((await rows()).map((r) => r.uid)).toEqual([2]);
    expect(await db.s.cachedUids(ALICE, 'INBOX', UV)).toEqual([2]);
    expect((await byUid(2))?.email_id).toBe(two);
  });

  it('reset (UIDVALIDITY changed) drops every cached row of that folder and nothing else', async () => {
    await firstSync();
    await db.s.applyFolderSync(sync({ state: state({ folder: 'Archive' }), reset: true, upserts: [envelope(1)] }), T0);
    await db.s.applyFolderSync(sync({ state: state({ mailbox: BOB }), reset: true, upserts: [envelope(1)] }), T0);
    const sandbox = await db.s.insertInbound(inboundEmail({ from_addr: 'local@sandbox.test', subject: 'local copy', text: 'x' }), T0);
    const fresh = await db.s.applyFolderSync(
      sync({ state: state({ uidvalidity: UV + 1, uidnext: 2, messages: 1 }), reset: true, upserts: [envelope(1, { subject: 'New world' })] }),
      T0 + 1,
    );
    expect(fresh.length).toBe(1);
    expect((await rows()).filter((r) => r.source === 'imap')).toEqual([
      { uid: 1, uidvalidity: UV + 1, subject: 'New world', flags: [], unread: true, has_body: false, source: 'imap' },
    ]);
    expect(await db.s.cachedUids(ALICE, 'INBOX', UV)).toEqual([]);
    expect(await db.s.getEmail(sandbox!)).toMatchObject({ subject: 'local copy', source: 'sandbox' });
    expect((await rows(ALICE, 'Archive')).map((r) => r.uid)).toEqual([1]);
    expect((await rows(BOB, 'INBOX')).map((r) => r.uid)).toEqual([1]);
    expect((await db.s.getFolderState(ALICE, 'INBOX'))?.uidvalidity).toBe(UV + 1);
  });

  it('a batch that fails part-way writes nothing, not even the folder state', async () => {
    await firstSync();
    const before = await everyEmail();
    const bad = envelope(5, { from_addr: null as unknown as string });
    await expect(
      db.s.applyFolderSync(
        sync({
          state: state({ uidnext: 6, synced_at: T0 + 5 }),
          upserts: [envelope(4), bad],
          flagUpdates: [{ uid: 1, flags: ['\\Seen'] }],
          removed: [2],
        }),
        T0 + 5,
      ),
    ).rejects.toThrow(/not.null/i); // SQLite: NOT NULL constraint failed; PostgreSQL: violates not-null constraint
    expect(await everyEmail()).toEqual(before);
    expect(await db.s.getFolderState(ALICE, 'INBOX')).toEqual(state());
  });
});

describe('a backfill (a big folder cached newest first)', () => {
  const mark = async () => (await db.s.getFolderState(ALICE, 'INBOX'))?.backfill_below;
  const batch = (below: number | null, upserts: CachedEnvelope[], over: Partial<FolderState> = {}) =>
    db.s.applyFolderSync(sync({ state: state({ backfill_below: below, ...over }), upserts, backfill: true }), T0 + 1);

  it('a first sync of the newest page records where the backfill starts; incremental syncs keep the mark', async () => {
    await db.s.applyFolderSync(
      sync({ state: state({ uidnext: 11, messages: 10, backfill_below: 8 }), reset: true, upserts: [envelope(8), envelope(9), envelope(10)] }),
      T0,
    );
    expect(await mark()).toBe(8);
    await db.s.applyFolderSync(sync({ state: state({ uidnext: 12, messages: 11 }), upserts: [envelope(11)] }), T0 + 1);
    expect(await mark()).toBe(8);
    expect((await db.s.getFolderState(ALICE, 'INBOX'))?.uidnext).toBe(12);
  });

  it('batches store older envelopes and move the mark down only; the last one clears it; a stale UIDVALIDITY is ignored', async () => {
    await db.s.applyFolderSync(
      sync({ state: state({ uidnext: 11, messages: 10, backfill_below: 8 }), reset: true, upserts: [envelope(8), envelope(9), envelope(10)] }),
      T0,
    );
    expect((await batch(5, [envelope(5), envelope(6), envelope(7)])).length).toBe(3);
    expect(await mark()).toBe(5);
    // A read that cached an old message on its own (an unread one) while the mark was still at 8: it stays at 5.
    await batch(8, [envelope(2, { subject: 'read first' })]);
    expect(await mark()).toBe(5);
    expect(await batch(1, [envelope(1)], { uidvalidity: UV + 1 })).toEqual([]);
    expect(await mark()).toBe(5);
    expect((await batch(null, [envelope(1), envelope(2), envelope(3), envelope(4)])).length).toBe(3);
    expect(await mark()).toBeUndefined();
    expect((await rows()).map((r) => r.uid)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect((await db.s.getFolderState(ALICE, 'INBOX'))?.uidnext).toBe(11);
  });
});

describe('correspondents', () => {
  const known = async (mailbox = ALICE) =>
    db.s.knownCorrespondents(mailbox, ['pat@example.org', 'Pat@Example.ORG', 'sender1@example.org', 'sender2@example.org', ALICE, BOB]);

  it('synced inbound mail records nobody: a From header is whatever the sender claims', async () => {
    await db.s.applyFolderSync(sync({ reset: true, upserts: [envelope(1, { from_addr: 'Pat@Example.ORG' }), envelope(2)] }), T0);
    await db.s.applyFolderSync(sync({ state: state({ folder: 'Sent' }), reset: true, upserts: [envelope(1)] }), T0);
    expect(await known()).toEqual(new Set());
    expect(await known(BOB)).toEqual(new Set());
  });
});

describe('bodies', () => {
  it('unfetchedUids lists the envelope-only UIDs of a folder until setEmailBody stores each body', async () => {
    const [one, two] = await firstSync();
    await db.s.applyFolderSync(sync({ state: state({ folder: 'Archive' }), reset: true, upserts: [envelope(7)] }), T0);
    expect(await db.s.unfetchedUids(ALICE, 'INBOX')).toEqual([1, 2, 3]);
    await db.s.setEmailBody(two!, { text: 'two', html: null, references_header: null, in_reply_to_header: null, attachments: [] });
    expect(await db.s.unfetchedUids(ALICE, 'INBOX')).toEqual([1, 3]);
    expect(await db.s.unfetchedUids(ALICE, 'Archive')).toEqual([7]);
    expect(await db.s.unfetchedUids(BOB, 'INBOX')).toEqual([]);
    expect((await db.s.getEmail(one!))?.has_body).toBe(false);
  });

  it('setEmailBody stores text, html, threading headers and attachments, and keeps an envelope In-Reply-To it lacks', async () => {
    const [one, two] = await firstSync([envelope(1, { in_reply_to_header: '<parent@example.org>' }), envelope(2)]);
    const attachments = [{ filename: 'numbers.pdf', content_type: 'application/pdf', size: 2048 }];
    await db.s.setEmailBody(one!, {
      text: 'plain',
      html: '<p>plain</p>',
      references_header: '<root@example.org> <parent@example.org>',
      in_reply_to_header: null,
      attachments,
    });
    expect(await db.s.getEmail(one!)).toMatchObject({
      has_body: true,
      text: 'plain',
      html: '<p>plain</p>',
      references_header: '<root@example.org> <parent@example.org>',
      in_reply_to_header: '<parent@example.org>',
      attachments,
      subject: 'Subject 1',
      uid: 1,
    });
    await db.s.setEmailBody(two!, { text: null, html: null, references_header: null, in_reply_to_header: '<other@example.org>', attachments: [] });
    expect(await db.s.getEmail(two!)).toMatchObject({ has_body: true, in_reply_to_header: '<other@example.org>', attachments: [] });
    // A repeat sync of a fetched message does not forget its body.
    await db.s.applyFolderSync(sync({ upserts: [envelope(1, { flags: ['\\Seen'] })] }), T0 + 1);
    expect(await db.s.getEmail(one!)).toMatchObject({ has_body: true, text: 'plain', attachments, flags: ['\\Seen'] });
  });

  it('emailsByUid returns the cached rows of that mailbox and folder for the UIDs asked, ignoring unknown ones', async () => {
    const ids = await firstSync();
    await db.s.applyFolderSync(sync({ state: state({ folder: 'Archive' }), reset: true, upserts: [envelope(1)] }), T0);
    await db.s.applyFolderSync(sync({ state: state({ mailbox: BOB }), reset: true, upserts: [envelope(1)] }), T0);
    const got = await db.s.emailsByUid(ALICE, 'INBOX', [3, 1, 42]);
    expect(got.map((e) => e.uid).sort()).toEqual([1, 3]);
    expect(got.map((e) => e.email_id).sort()).toEqual([ids[0]!, ids[2]!].sort());
    expect(got.every((e) => e.mailbox === ALICE && e.folder === 'INBOX')).toBe(true);
    expect(await db.s.emailsByUid(ALICE, 'INBOX', [])).toEqual([]);
    expect(await db.s.emailsByUid(ALICE, 'Nowhere', [1])).toEqual([]);
  });
});
