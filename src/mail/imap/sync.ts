/**
 * Incremental folder sync, computed against what the caller's cache knows and returned as a delta; the
 * caller persists it. The first sync (or a UIDVALIDITY change, RFC 3501 §2.3.1.1) fetches every envelope,
 * or with `newest` only the newest that many by sequence number (the rest is backfilled: backfill.ts); later ones fetch only UIDs from the known UIDNEXT on, flag changes since the known HIGHESTMODSEQ where the
 * server has CONDSTORE (RFC 7162), and detect expunges by comparing UID sets only when the message count
 * says something disappeared.
 */
import type { FetchMessageObject, ImapFlow, MailboxObject, MessageAddressObject } from 'imapflow';
import type { CachedEnvelope } from '../../store/store.js';
import { cleanLine } from '../../text/invisible.js';
import type { KnownFolder, SyncDelta } from '../ports.js';
import type { ImapConnection } from './connection.js';

/** What a sync asks the server for each new message: the envelope, flags, date and size, never the body. */
export const ENVELOPE_QUERY = { uid: true, envelope: true, flags: true, internalDate: true, size: true } as const;

/** A delta, and where a first sync that fetched only the newest messages stopped (null: it fetched them all). */
export type PartialDelta = SyncDelta & { backfill_below: number | null };

/** What the cache knows, with (when its store row is passed) the server's count then and a running backfill's mark. */
type Known = KnownFolder & { messages?: number; backfill_below?: number | null };

export async function syncFolder(
  conn: ImapConnection,
  folder: string,
  known: Known | undefined,
  opts: { newest?: number | undefined } = {},
): Promise<PartialDelta> {
  return conn.withFolder(folder, async (c) => {
    // A NOOP makes the server report anything new on an already selected folder.
    await c.noop();
    // imapflow's NOOP swallows a connection that died under it, and the folder is then no longer selected:
    // a delta computed from that would be a reset with no UIDVALIDITY. Fail as the connection it is.
    if (!c.mailbox || !c.usable) throw new Error('the connection closed during the sync');
    const box = c.mailbox as MailboxObject;
    const uidvalidity = Number(box.uidValidity);
    const prev = known?.uidvalidity === uidvalidity ? known : undefined;
    const from = prev ? prev.uidnext : 1;
    const envelopes: CachedEnvelope[] = [];
    const flagChanges: { uid: number; flags: string[] }[] = [];
    let vanished: number[] = [];
    let uidnext = box.uidNext || from;
    let backfill_below: number | null = null;
    if (!prev && opts.newest && box.exists > opts.newest) {
      // A big folder's first sync: the newest page by sequence range answers now, older envelopes come later.
      for await (const msg of c.fetch(`${box.exists - opts.newest + 1}:*`, ENVELOPE_QUERY)) {
        envelopes.push(toEnvelope(msg));
        uidnext = Math.max(uidnext, msg.uid + 1);
      }
      backfill_below = envelopes.reduce((low, e) => Math.min(low, e.uid), uidnext);
    } else if (box.exists > 0) {
      // `n:*` always returns at least the highest message, so keep only UIDs at or past n.
      for await (const msg of c.fetch(`${from}:*`, ENVELOPE_QUERY, { uid: true })) {
        if (msg.uid >= from) envelopes.push(toEnvelope(msg));
        uidnext = Math.max(uidnext, msg.uid + 1);
      }
      if (prev) {
        await collectFlagChanges(c, box, prev.highestmodseq, from, flagChanges);
        // Only when the counts disagree did something disappear: then (and only then) compare UID sets. While a
        // backfill runs the cache holds only part of the folder, so the server's own count from the last sync is
        // what the new messages are added to.
        const before = prev.backfill_below && prev.messages !== undefined ? Number(prev.messages) : prev.uids.length;
        if (before + envelopes.length !== box.exists) {
          const onServer = await c.search({ all: true }, { uid: true });
          if (onServer === false) throw new Error('the server refused UID SEARCH ALL');
          const present = new Set(onServer ?? []);
          vanished = prev.uids.filter((uid) => !present.has(uid));
        }
      }
    } else if (prev) {
      vanished = [...prev.uids];
    }
    return {
      folder,
      state: { uidvalidity, uidnext, highestmodseq: box.highestModseq?.toString() ?? null, messages: box.exists, special_use: box.specialUse ?? null },
      reset: !prev,
      envelopes,
      flagChanges,
      vanished,
      backfill_below,
    };
  });
}

async function collectFlagChanges(
  c: ImapFlow,
  box: MailboxObject,
  prevModseq: string | null,
  below: number,
  out: { uid: number; flags: string[] }[],
): Promise<void> {
  if (box.highestModseq !== undefined && prevModseq !== null) {
    if (box.highestModseq <= BigInt(prevModseq)) return;
    for await (const msg of c.fetch('1:*', { uid: true, flags: true }, { uid: true, changedSince: BigInt(prevModseq) })) {
      if (msg.uid < below) out.push({ uid: msg.uid, flags: [...(msg.flags ?? [])] });
    }
    return;
  }
  // No CONDSTORE: flags for every message (a FLAGS-only fetch is small).
  for await (const msg of c.fetch('1:*', { uid: true, flags: true }, { uid: true })) {
    if (msg.uid < below) out.push({ uid: msg.uid, flags: [...(msg.flags ?? [])] });
  }
}

export function toEnvelope(msg: FetchMessageObject): CachedEnvelope {
  const env = msg.envelope;
  const first = env?.from?.[0];
  return {
    uid: msg.uid,
    // Names and subjects are cleaned of invisible and bidi characters once, here, for every reader after.
    from_addr: cleanLine(first?.address ?? '').toLowerCase(),
    from_name: cleanLine(first?.name ?? '') || null,
    to: addresses(env?.to),
    cc: addresses(env?.cc),
    subject: cleanLine(env?.subject ?? ''),
    message_id_header: env?.messageId ?? null,
    in_reply_to_header: env?.inReplyTo ?? null,
    flags: [...(msg.flags ?? [])],
    size: msg.size ?? null,
    date: new Date(env?.date ?? msg.internalDate ?? 0).getTime() || 0,
  };
}

function addresses(list: MessageAddressObject[] | undefined): string[] {
  return (list ?? []).map((a) => cleanLine(a.address ?? '').toLowerCase()).filter(Boolean);
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
