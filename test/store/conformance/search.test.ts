/**
 * searchEmails over the full-text index (SQLite's FTS5, PostgreSQL's tsvector): every query word must be a word
 * prefix in the sender, name, recipients, subject or text; query syntax is inert; the index follows inserts, body
 * updates and deletions. FTS5's own integrity check after each of these: search-sqlite.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { InboundEmail } from '../../../src/store/store.js';
import { ALICE, BOB, T0, addMailbox, allEmails, inboundEmail, rng, useStore } from '../fixtures.js';
import { body, envelope, state, sync } from '../imap-sync.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE);
  await addMailbox(s, BOB);
});

type Mail = Partial<Pick<InboundEmail, 'mailbox' | 'folder' | 'from_addr' | 'from_name' | 'to' | 'cc' | 'subject' | 'text' | 'date'>>;

async function deliver(m: Mail): Promise<string> {
  const id = await db.s.insertInbound(inboundEmail(m), T0);
  if (!id) throw new Error('not inserted');
  return id;
}

const search = async (query: string, opts: { mailbox?: string; folder?: string; limit?: number } = {}) =>
  (await db.s.searchEmails({ mailbox: opts.mailbox ?? ALICE, query, folder: opts.folder, limit: opts.limit ?? 100 })).map((e) => e.email_id);
const sorted = (ids: string[]) => [...ids].sort();

describe('word-prefix matching', () => {
  let ids: Record<string, string>;
  beforeEach(async () => {
    ids = {
      subject: await deliver({ subject: 'Quarterly harbour report' }),
      from: await deliver({ from_addr: 'pelican@birds.example' }),
      name: await deliver({ from_name: 'Ottoline Brackenbury' }),
      to: await deliver({ to: ['walrus@sea.example'] }),
      text: await deliver({ text: 'The lighthouse keeper wrote back yesterday.' }),
    };
  });

  it('finds a word prefix in the subject, sender address, sender name, recipients and text', async () => {
    for (const [field, query] of [
      ['subject', 'harb'],
      ['from', 'pelic'],
      ['name', 'bracken'],
      ['to', 'walr'],
      ['text', 'lighthouse'],
    ] as const) {
      expect(await search(query), field).toEqual([ids[field]]);
    }
    // A whole address is its words, each a required prefix.
    expect(await search('pelican@birds.example')).toEqual([ids.from]);
    expect(await search('walrus@sea')).toEqual([ids.to]);
  });

  it('matches at the start of words only, not inside them', async () => {
    expect(await search('arbour')).toEqual([]);
    expect(await search('house')).toEqual([]);
    expect(await search('racken')).toEqual([]);
  });

  it('ignores case and diacritics', async () => {
    const cafe = await deliver({ subject: 'Réunion au Café Zoë' });
    expect(await search('HARBOUR')).toEqual([ids.subject]);
    expect(await search('cafe zoe reunion')).toEqual([cafe]);
    expect(await search('CAFÉ')).toEqual([cafe]);
  });

  it('an empty query, or one with no words, finds nothing', async () => {
    for (const q of ['', '   ', '*', '"', '()', '-', '...', '@', '!?']) expect(await search(q), JSON.stringify(q)).toEqual([]);
  });
});

describe('every word is required', () => {
  it('returns only the emails that have all the words, in any of the fields', async () => {
    const both = await deliver({ subject: 'Harbour invoice', text: 'for the pelican project' });
    const across = await deliver({ from_name: 'Pelican Partners', text: 'the harbour is closed' });
    const one = await deliver({ subject: 'Harbour only' });
    const other = await deliver({ subject: 'Pelican only' });
    expect(sorted(await search('harbour pelican'))).toEqual(sorted([both, across]));
    expect(await search('harbour pelican invoice')).toEqual([both]);
    expect(sorted(await search('harbour'))).toEqual(sorted([both, across, one]));
    expect(sorted(await search('pelican'))).toEqual(sorted([both, across, other]));
    expect(await search('harbour pelican walrus')).toEqual([]);
  });
});

describe('scope, order and limit', () => {
  it('searches only the given mailbox, and only the given folder when one is named', async () => {
    const inbox = await deliver({ subject: 'harbour inbox' });
    const archived = await deliver({ subject: 'harbour archive', folder: 'Archive' });
    await deliver({ mailbox: BOB, subject: 'harbour for bob' });
    expect(sorted(await search('harbour'))).toEqual(sorted([inbox, archived]));
    expect(await search('harbour', { folder: 'Archive' })).toEqual([archived]);
    expect(await search('harbour', { folder: 'INBOX' })).toEqual([inbox]);
    expect(await search('harbour', { folder: 'Nowhere' })).toEqual([]);
    expect((await search('harbour', { mailbox: BOB })).length).toBe(1);
  });

  it('follows a move to another folder', async () => {
    const id = await deliver({ subject: 'harbour move me' });
    await db.s.applyTag({ email_id: id, add_flags: [], remove_flags: [], move_to: 'Archive' });
    expect(await search('harbour', { folder: 'INBOX' })).toEqual([]);
    expect(await search('harbour', { folder: 'Archive' })).toEqual([id]);
  });

  it('returns the newest first, up to the limit', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await deliver({ subject: `harbour ${i}`, date: T0 + i }));
    expect(await search('harbour')).toEqual([...ids].reverse());
    expect(await search('harbour', { limit: 2 })).toEqual([ids[4], ids[3]]);
  });
});

describe('FTS syntax in a query is inert', () => {
  let id: string;
  let walrus: string;
  let count: number;
  beforeEach(async () => {
    id = await deliver({ from_addr: 'billing@example.net', subject: 'Harbour invoice and receipts', text: 'Payment due next week' });
    walrus = await deliver({ from_addr: 'memo@example.net', subject: 'Unrelated walrus memo' });
    count = (await allEmails(db.s)).length;
  });

  it('operators are plain words: AND, OR, NOT and NEAR must themselves appear', async () => {
    // As operators, each of these would match an email; as words ("or", "not", "near" start no word here) they do not.
    expect(await search('harbour OR walrus')).toEqual([]);
    expect(await search('walrus OR harbour')).toEqual([]);
    expect(await search('NEAR(harbour invoice)')).toEqual([]);
    expect(await search('harbour NEAR invoice')).toEqual([]);
    // "and" is in the email, so as a word it matches; NOT as an operator would have excluded it.
    expect(await search('harbour AND invoice')).toEqual([id]);
    expect(await search('harbour NOT walrus')).toEqual([]);
  });

  it('quotes, stars, minus, plus, carets, column filters and brackets do not change the meaning', async () => {
    const cases: [string, string[]][] = [
      ['"harbour invoice"', [id]],
      ['"invoice harbour"', [id]],
      ['"harbour', [id]],
      ['harbour"', [id]],
      ['"harb"*', [id]],
      ['harb*', [id]],
      ['*harb', [id]],
      ['-invoice harbour', [id]],
      ['harbour -invoice', [id]],
      ['+harbour', [id]],
      ['^harbour', [id]],
      ['harbour ^invoice', [id]],
      ['(harbour)', [id]],
      ['{harbour}', [id]],
      ['harbour: invoice', [id]],
      ['subject:walrus', []],
      ['{subject}:harbour', []],
      ['text_body:payment', []],
      ['harbour*)(', [id]],
      ['"""harbour"""', [id]],
    ];
    for (const [q, expected] of cases) expect(await search(q), q).toEqual(expected);
  });

  it('SQL in a query is text: it finds nothing and changes nothing', async () => {
    const queries = [
      "'; DROP TABLE emails; --",
      "harbour' OR '1'='1",
      'harbour" OR "1"="1',
      "') UNION SELECT * FROM audit_events --",
      "harbour'); DELETE FROM emails_fts; --",
      '%',
      '_',
      '\\',
      '%harbour%',
      "' OR 1=1 --",
    ];
    for (const q of queries) expect(Array.isArray(await search(q)), q).toBe(true);
    expect(await search("'; DROP TABLE emails; --")).toEqual([]);
    expect(await search('%harbour%')).toEqual([id]);
    expect((await allEmails(db.s)).length).toBe(count);
    expect(await search('harbour')).toEqual([id]);
  });

  it('random strings of FTS and SQL punctuation never throw (seeded)', async () => {
    const next = rng(20240607);
    const alphabet = [
      '"',
      "'",
      '*',
      '(',
      ')',
      '-',
      '+',
      '^',
      ':',
      '{',
      '}',
      ',',
      ';',
      '%',
      '_',
      '\\',
      ' ',
      'AND',
      'OR',
      'NOT',
      'NEAR',
      'harbour',
      'inv',
      'é',
      '0',
      '\u0000',
      '🙂',
    ];
    for (let i = 0; i < 500; i++) {
      const q = Array.from({ length: 1 + Math.floor(next() * 12) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
      const got = await search(q);
      expect(
        got.every((x) => x === id || x === walrus),
        q,
      ).toBe(true);
    }
  });
});

describe('the index follows the emails table', () => {
  it('an envelope is searchable by subject at once, by its body once setEmailBody has stored it', async () => {
    const [id] = await db.s.applyFolderSync(sync({ reset: true, upserts: [envelope(1, 'Harbour plans')] }), T0);
    expect(await search('harbour')).toEqual([id]);
    expect(await search('cormorant')).toEqual([]);
    await db.s.setEmailBody(id!, body('A cormorant sat on the pier.'));
    expect(await search('cormorant')).toEqual([id]);
    expect(await search('harbour cormorant pier')).toEqual([id]);
  });

  it('a new body replaces the old words in the index', async () => {
    const [id] = await db.s.applyFolderSync(sync({ reset: true, upserts: [envelope(1, 'Plans')] }), T0);
    await db.s.setEmailBody(id!, body('first draft mentions the cormorant'));
    await db.s.setEmailBody(id!, body('second draft mentions the heron'));
    expect(await search('cormorant')).toEqual([]);
    expect(await search('heron')).toEqual([id]);
    await db.s.setEmailBody(id!, body(null));
    expect(await search('heron')).toEqual([]);
    expect(await search('plans')).toEqual([id]);
  });

  it('an expunged or reset email leaves the index, and a flag change leaves it as it was', async () => {
    const [one, two] = await db.s.applyFolderSync(sync({ reset: true, upserts: [envelope(1, 'harbour one'), envelope(2, 'harbour two')] }), T0);
    await db.s.applyFolderSync(sync({ flagUpdates: [{ uid: 2, flags: ['\\Seen'] }] }), T0 + 1);
    expect(sorted(await search('harbour'))).toEqual(sorted([one!, two!]));
    await db.s.applyFolderSync(sync({ removed: [1] }), T0 + 2);
    expect(await search('harbour')).toEqual([two]);
    expect(await search('one')).toEqual([]);
    await db.s.applyFolderSync(sync({ state: { ...state, uidvalidity: 8 }, reset: true }), T0 + 3);
    expect(await search('harbour')).toEqual([]);
  });
});
