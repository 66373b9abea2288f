/**
 * The IMAP cache: envelopes of synced folders keyed by (mailbox, folder, UIDVALIDITY, UID), plus each
 * folder's sync state, so a repeat sync fetches only what changed. Bodies are filled in lazily when a
 * message is first read or listed (has_body), and every row is in the full-text index (SQLite: by trigger;
 * PostgreSQL: the generated search_vector column).
 */
import { newEmailId } from '../ids.js';
import type { SqlTx } from './sql/types.js';

export interface FolderState {
  mailbox: string;
  folder: string;
  uidvalidity: number;
  uidnext: number;
  highestmodseq: string | null;
  messages: number;
  special_use: string | null;
  synced_at: number;
  /**
   * Set while older envelopes are still to be fetched: everything from this UID up is cached, the rest is
   * being backfilled, newest first. Absent once the folder is cached whole.
   */
  backfill_below?: number | null;
}

export interface CachedEnvelope {
  uid: number;
  from_addr: string;
  from_name: string | null;
  to: string[];
  cc: string[];
  subject: string;
  message_id_header: string | null;
  in_reply_to_header: string | null;
  flags: string[];
  size: number | null;
  date: number;
}

export interface FolderSync {
  state: FolderState;
  /** UIDVALIDITY changed (or first sync): every cached row of the folder is dropped first (RFC 3501 §2.3.1.1). */
  reset: boolean;
  upserts: CachedEnvelope[];
  flagUpdates: { uid: number; flags: string[] }[];
  /** UIDs to drop (expunged on the server). */
  removed: number[];
  /**
   * A backfill batch: `upserts` are older envelopes and only the folder's backfill_below moves (to
   * state.backfill_below), leaving the rest of its state to the incremental syncs. Ignored when the folder's
   * UIDVALIDITY is no longer state.uidvalidity (a reset came in between).
   */
  backfill?: boolean;
}

export async function getFolderState(q: SqlTx, mailbox: string, folder: string): Promise<FolderState | undefined> {
  const row = await q.get<FolderState>('SELECT * FROM imap_folders WHERE mailbox = ? AND folder = ?', [mailbox, folder]);
  // A complete folder has no backfill_below at all, so its state reads the same as before backfills existed.
  if (row && row.backfill_below == null) delete row.backfill_below;
  return row;
}

/** Applies one sync batch; the caller runs it inside a transaction. Returns the ids of new rows. */
export async function applyFolderSync(q: SqlTx, sync: FolderSync, now: number): Promise<string[]> {
  const { mailbox, folder, uidvalidity } = sync.state;
  if (sync.backfill) return applyBackfill(q, sync, now);
  if (sync.reset) await q.run('DELETE FROM emails WHERE mailbox = ? AND folder = ? AND source = ?', [mailbox, folder, 'imap']);
  const created = await upsertEnvelopes(q, sync, now);
  for (const f of sync.flagUpdates) {
    await q.run('UPDATE emails SET flags = ?, unread = ? WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ?', [
      JSON.stringify(f.flags),
      f.flags.includes('\\Seen') ? 0 : 1,
      mailbox,
      folder,
      uidvalidity,
      f.uid,
    ]);
  }
  for (const uid of sync.removed) {
    await q.run('DELETE FROM emails WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid = ?', [mailbox, folder, uidvalidity, uid]);
  }
  // Only a reset says where a backfill starts; an incremental sync leaves a running backfill's mark alone.
  await q.run(
    `INSERT INTO imap_folders (mailbox, folder, uidvalidity, uidnext, highestmodseq, messages, special_use, synced_at, backfill_below)
            VALUES (@mailbox, @folder, @uidvalidity, @uidnext, @highestmodseq, @messages, @special_use, @synced_at, @backfill_below)
            ON CONFLICT (mailbox, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, uidnext = excluded.uidnext,
              highestmodseq = excluded.highestmodseq, messages = excluded.messages, special_use = excluded.special_use,
              synced_at = excluded.synced_at${sync.reset ? ', backfill_below = excluded.backfill_below' : ''}`,
    { ...sync.state, backfill_below: sync.reset ? (sync.state.backfill_below ?? null) : null },
  );
  return created;
}

/** Inserts new envelopes and refreshes the flags of known ones; returns the ids of the new rows. */
async function upsertEnvelopes(q: SqlTx, sync: FolderSync, now: number): Promise<string[]> {
  const { mailbox, folder, uidvalidity } = sync.state;
  const created: string[] = [];
  for (const e of sync.upserts) {
    const email_id = newEmailId();
    // RETURNING gives the row's id: ours when the row is new, the existing one when only its flags changed.
    const row = await q.get<{ email_id: string }>(
      `INSERT INTO emails (email_id, mailbox, folder, source, from_addr, from_name, to_addrs, cc_addrs, subject,
        message_id_header, in_reply_to_header, flags, unread, uidvalidity, uid, size, has_body, date, received_at)
      VALUES (@email_id, @mailbox, @folder, 'imap', @from_addr, @from_name, @to_addrs, @cc_addrs, @subject,
        @message_id_header, @in_reply_to_header, @flags, @unread, @uidvalidity, @uid, @size, 0, @date, @now)
      ON CONFLICT (mailbox, folder, uidvalidity, uid) WHERE uid IS NOT NULL DO UPDATE SET flags = excluded.flags, unread = excluded.unread
      RETURNING email_id`,
      // Field by field, not `{ ...e, ... }`: a spread plus added keys allocates ~10x the bytes per row, and a
      // backfill of 10k envelopes promoted ~37 MiB of that garbage to the old generation (the peak RSS of issue 14).
      {
        email_id,
        mailbox,
        folder,
        uidvalidity,
        now,
        from_addr: e.from_addr,
        from_name: e.from_name,
        to_addrs: JSON.stringify(e.to),
        cc_addrs: JSON.stringify(e.cc),
        subject: e.subject,
        message_id_header: e.message_id_header,
        in_reply_to_header: e.in_reply_to_header,
        flags: JSON.stringify(e.flags),
        unread: e.flags.includes('\\Seen') ? 0 : 1,
        uid: e.uid,
        size: e.size,
        date: e.date,
      },
    );
    if (row?.email_id === email_id) created.push(email_id);
  }
  return created;
}

async function applyBackfill(q: SqlTx, sync: FolderSync, now: number): Promise<string[]> {
  const { mailbox, folder, uidvalidity } = sync.state;
  const current = await q.get<{ uidvalidity: number; backfill_below: number | null }>(
    'SELECT uidvalidity, backfill_below FROM imap_folders WHERE mailbox = ? AND folder = ?',
    [mailbox, folder],
  );
  if (!current || Number(current.uidvalidity) !== uidvalidity) return [];
  const created = await upsertEnvelopes(q, sync, now);
  // The mark only moves down (null: complete), so a read caching a few old envelopes never undoes a batch.
  const below = sync.state.backfill_below ?? null;
  const mark = below === null || current.backfill_below === null ? null : Math.min(Number(current.backfill_below), below);
  if (below === null || mark !== current.backfill_below) {
    await q.run('UPDATE imap_folders SET backfill_below = ? WHERE mailbox = ? AND folder = ?', [mark, mailbox, folder]);
  }
  return created;
}

// `uid IS NOT NULL` lets SQLite answer from the partial index emails_imap_uid alone: without it, each row is read
// (10 ms at 10,000 cached emails with bodies, on every search's coverage and every sync).
export async function cachedCount(q: SqlTx, mailbox: string, folder: string, uidvalidity: number): Promise<number> {
  return (await q.value<number>('SELECT count(*) FROM emails WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid IS NOT NULL', [
    mailbox,
    folder,
    uidvalidity,
  ]))!;
}

export function cachedUids(q: SqlTx, mailbox: string, folder: string, uidvalidity: number): Promise<number[]> {
  return q.column<number>('SELECT uid FROM emails WHERE mailbox = ? AND folder = ? AND uidvalidity = ? AND uid IS NOT NULL ORDER BY uid', [
    mailbox,
    folder,
    uidvalidity,
  ]);
}

export interface ParsedBody {
  text: string | null;
  html: string | null;
  references_header: string | null;
  in_reply_to_header: string | null;
  attachments: { filename: string; content_type: string; size: number }[];
}

export async function setBody(q: SqlTx, emailId: string, body: ParsedBody): Promise<void> {
  await q.run(
    `UPDATE emails SET text_body = ?, html_body = ?, references_header = ?, in_reply_to_header = COALESCE(?, in_reply_to_header),
              attachments = ?, has_body = 1 WHERE email_id = ?`,
    [body.text, body.html, body.references_header, body.in_reply_to_header, JSON.stringify(body.attachments), emailId],
  );
}

/** UIDs of a folder whose bodies have not been fetched yet (the part of a search the index cannot answer). */
export function unfetchedUids(q: SqlTx, mailbox: string, folder: string): Promise<number[]> {
  return q.column<number>('SELECT uid FROM emails WHERE mailbox = ? AND folder = ? AND has_body = 0 AND uid IS NOT NULL ORDER BY uid', [mailbox, folder]);
}
