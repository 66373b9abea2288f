/**
 * searchEmails' filters on both backends: substrings of sender, To and subject (case-insensitive, LIKE's
 * wildcards literal), a date range, unread, flagged and has_attachment (decided only where the body is indexed),
 * alone or with the full-text query; and the store half of delete_email (to Trash, or the row gone with its index).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { SearchFilters } from '../../../src/store/inbox.js';
import { ALICE, BOB, T0, addMailbox, inboundEmail, useStore } from '../fixtures.js';
import { envelope, sync } from '../imap-sync.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE);
  await addMailbox(s, BOB);
});

const DAY = 86_400_000;
const PDF = [{ filename: 'a.pdf', content_type: 'application/pdf', size: 8 }];
let ids: Record<string, string>;

beforeEach(async () => {
  const put = async (over: Parameters<typeof inboundEmail>[0]) => (await db.s.insertInbound(inboundEmail(over), T0))!;
  ids = {
    invoice: await put({ from_addr: 'anna@north.example', from_name: 'Anna Smith', subject: 'Invoice 100%', text: 'harbour', attachments: PDF, date: T0 }),
    lunch: await put({ from_addr: 'anna@north.example', subject: 'Lunch_plans', text: 'harbour cafe', flags: ['\\Flagged'], date: T0 + DAY }),
    report: await put({ from_addr: 'boris@south.example', to: ['team@x.example'], subject: 'Report', flags: ['\\Seen'], date: T0 + 2 * DAY }),
  };
  await db.s.insertInbound(inboundEmail({ mailbox: BOB, from_addr: 'anna@north.example', subject: 'for bob' }), T0);
});

const find = async (filters: SearchFilters, query?: string) =>
  (await db.s.searchEmails({ mailbox: ALICE, query, filters, limit: 100 })).map((e) => e.email_id).sort();
const of = (...names: string[]) => names.map((n) => ids[n]!).sort();

describe('filters', () => {
  it('match substrings of sender (address or name), To and subject, ignoring case', async () => {
    expect(await find({ from: 'ANNA@' })).toEqual(of('invoice', 'lunch'));
    expect(await find({ from: 'smith' })).toEqual(of('invoice'));
    expect(await find({ to: 'TEAM@' })).toEqual(of('report'));
    expect(await find({ subject: 'port' })).toEqual(of('report'));
  });

  it('take % and _ literally', async () => {
    expect(await find({ subject: '100%' })).toEqual(of('invoice'));
    expect(await find({ subject: '%' })).toEqual(of('invoice'));
    expect(await find({ subject: 'h_plans' })).toEqual(of('lunch'));
    expect(await find({ subject: 'e_p' })).toEqual([]);
  });

  it('select a date range: since inclusive, before exclusive', async () => {
    expect(await find({ since: T0 + DAY })).toEqual(of('lunch', 'report'));
    expect(await find({ before: T0 + DAY })).toEqual(of('invoice'));
    expect(await find({ since: T0 + DAY, before: T0 + 2 * DAY })).toEqual(of('lunch'));
  });

  it('select by unread, flagged and has_attachment, each true or false', async () => {
    expect(await find({ unread: false })).toEqual(of('report'));
    expect(await find({ unread: true })).toEqual(of('invoice', 'lunch'));
    expect(await find({ flagged: true })).toEqual(of('lunch'));
    expect(await find({ flagged: false })).toEqual(of('invoice', 'report'));
    expect(await find({ has_attachment: true })).toEqual(of('invoice'));
    expect(await find({ has_attachment: false })).toEqual(of('lunch', 'report'));
  });

  it('combine with each other and with the full-text query', async () => {
    expect(await find({ from: 'anna' }, 'harbour')).toEqual(of('invoice', 'lunch'));
    expect(await find({ from: 'anna', flagged: true }, 'harbour')).toEqual(of('lunch'));
    expect(await find({ has_attachment: true }, 'cafe')).toEqual([]);
    expect(await find({ from: 'boris' }, 'harbour')).toEqual([]);
  });

  it('leave has_attachment undecided for an envelope without its body', async () => {
    await db.s.applyFolderSync(sync({ upserts: [envelope(1, 'envelope only')] }), T0);
    expect(await find({ subject: 'envelope only' })).toHaveLength(1);
    expect(await find({ subject: 'envelope only', has_attachment: false })).toEqual([]);
    expect(await find({ subject: 'envelope only', has_attachment: true })).toEqual([]);
  });
});

describe('delete_email in the store', () => {
  it('moves to the Trash, or removes the row and its index entry', async () => {
    await db.s.applyTag({ email_id: ids.invoice!, add_flags: [], remove_flags: [], move_to: null, delete: 'trash' });
    expect((await db.s.getEmail(ids.invoice!))?.folder).toBe('Trash');
    await db.s.applyTag({ email_id: ids.lunch!, add_flags: [], remove_flags: [], move_to: null, delete: 'permanent' });
    expect(await db.s.getEmail(ids.lunch!)).toBeUndefined();
    expect(await find({}, 'cafe')).toEqual([]);
    expect(await find({}, 'harbour')).toEqual(of('invoice'));
  });
});
