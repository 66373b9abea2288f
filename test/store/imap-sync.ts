/** One IMAP folder sync of ALICE's INBOX as the Store takes it: its state, envelopes, and a body for one. */
import type { FolderSync } from '../../src/store/store.js';
import { ALICE, T0 } from './fixtures.js';

export const state = { mailbox: ALICE, folder: 'INBOX', uidvalidity: 7, uidnext: 3, highestmodseq: null, messages: 2, special_use: null, synced_at: T0 };
export const envelope = (uid: number, subject: string) => ({
  uid,
  from_addr: 'imap@example.org',
  from_name: null,
  to: [ALICE],
  cc: [],
  subject,
  message_id_header: `<${uid}@example.org>`,
  in_reply_to_header: null,
  flags: [],
  size: 100,
  date: T0 + uid,
});
export const sync = (over: Partial<FolderSync>): FolderSync => ({ state, reset: false, upserts: [], flagUpdates: [], removed: [], ...over });
export const body = (text: string | null) => ({ text, html: null, references_header: null, in_reply_to_header: null, attachments: [] });
