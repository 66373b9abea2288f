/**
 * SQLite's full-text index (FTS5, emails_fts) stays consistent with the emails table through everything that
 * writes it: inserts, bodies stored and replaced, moves, expunges, UIDVALIDITY resets, and queries written to
 * break out of the search. FTS5's integrity check reads the index beneath the Store, so this is SQLite-only;
 * what search finds is checked on both backends in conformance/search.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ALICE, T0, addMailbox } from './fixtures.js';
import { body, envelope, state, sync } from './imap-sync.js';
import { useSqliteStore } from './sqlite-fixtures.js';

const db = useSqliteStore((s) => addMailbox(s, ALICE));
const integrity = () => db.s.db.prepare("INSERT INTO emails_fts (emails_fts, rank) VALUES ('integrity-check', 1)").run();

describe('the FTS5 index passes its integrity check', () => {
  it('after envelopes, bodies stored and replaced, a move, a flag change, an expunge and a reset', async () => {
    const [one, two] = await db.s.applyFolderSync(sync({ reset: true, upserts: [envelope(1, 'harbour one'), envelope(2, 'harbour two')] }), T0);
    const steps: [string, () => Promise<unknown>][] = [
      ['body stored', () => db.s.setEmailBody(one!, body('A cormorant sat on the pier.'))],
      ['body replaced', () => db.s.setEmailBody(one!, body('second draft mentions the heron'))],
      ['body cleared', () => db.s.setEmailBody(one!, body(null))],
      ['flags changed', () => db.s.applyFolderSync(sync({ flagUpdates: [{ uid: 2, flags: ['\\Seen'] }] }), T0 + 1)],
      ['moved', () => db.s.applyTag({ email_id: two!, add_flags: [], remove_flags: [], move_to: 'Archive' })],
      ['expunged', () => db.s.applyFolderSync(sync({ removed: [1] }), T0 + 2)],
      ['reset', () => db.s.applyFolderSync(sync({ state: { ...state, uidvalidity: 8 }, reset: true }), T0 + 3)],
    ];
    for (const [step, run] of steps) {
      await run();
      expect(() => integrity(), step).not.toThrow();
    }
  });

  it('after queries written to break out of the search', async () => {
    await db.s.applyFolderSync(sync({ reset: true, upserts: [envelope(1, 'Harbour invoice')] }), T0);
    for (const query of ["harbour'); DELETE FROM emails_fts; --", "'; DROP TABLE emails; --", 'NEAR(harbour invoice)', '{subject}:harbour', '"""']) {
      await db.s.searchEmails({ mailbox: ALICE, query, limit: 10 });
    }
    expect(() => integrity()).not.toThrow();
    expect((await db.s.searchEmails({ mailbox: ALICE, query: 'harbour', limit: 10 })).length).toBe(1);
  });
});
