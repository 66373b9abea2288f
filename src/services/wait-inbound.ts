/**
 * mail_wait without a message: a bounded wait for the next inbound email in a mailbox's INBOX ("the next
 * customer email"), optionally matching a sender or subject. It wakes on the store's change signals (`inbox`:
 * the IMAP IDLE watcher's syncs, RFC 2177, and sandbox deliveries, on every instance) and otherwise looks again at
 * a slow poll; each answer carries a cursor so the next call reports only mail after what this one passed.
 */
import type { InboundEmail, Mailbox } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { withBody } from './inbox.js';
import { getMailboxOrThrow } from './scope.js';
import { cacheFor } from './mailbox-cache.js';
import { sleepUntilChange, type WaitOptions } from './wait.js';
import { byArrival, cursorAt, decodeCursor, encodeCursor, isAfter, type WaitCursor } from './wait-cursor.js';

export interface InboundQuery {
  mailbox: string;
  /** Case-insensitive substring of the sender's address or name. */
  from?: string | undefined;
  /** Case-insensitive substring of the subject. */
  subject?: string | undefined;
  /** Without a cursor: mail dated at or after this time (ms) counts as new; without either, mail from now on. */
  since?: number | undefined;
  cursor?: string | undefined;
}

export interface InboundResult {
  mailbox: string;
  /** The oldest matching email after the cursor, its body fetched; undefined when none came in time. */
  email: InboundEmail | undefined;
  /** Where to resume: past the email reported, or past everything looked at when none matched. */
  cursor: string;
  /** More matching mail is already waiting: the next call answers at once. */
  more: boolean;
  timed_out: boolean;
  waited_ms: number;
}

/** Sandbox mail is listed newest first by date; new mail is at the top, so this many cover any realistic burst. */
const SCAN_LIMIT = 200;
/** How often an unwatched IMAP INBOX (no IDLE on this instance) is asked for new mail while waiting. */
const UNWATCHED_SYNC_MS = 5000;

export async function waitForInbound(ctx: AppContext, who: Principal, q: InboundQuery, opts: WaitOptions): Promise<InboundResult> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const mailbox = await getMailboxOrThrow(ctx, who, q.mailbox);
  const cache = cacheFor(ctx, mailbox);
  const match = matcher(q);
  if (cache) await cache.foreground(() => cache.sync('INBOX'));
  let lastSync = Date.now();
  let cursor = q.cursor ? decodeCursor(q.cursor, mailbox.address) : await baseline(ctx, mailbox, cache !== undefined, q.since);
  let lastProgress = started;
  for (;;) {
    const fresh = await newMail(ctx, mailbox.address, cache !== undefined, cursor);
    const found = fresh.findIndex(match);
    const now = Date.now();
    if (found >= 0 || now >= deadline || opts.signal?.aborted) {
      const hit = found >= 0 ? fresh[found]! : undefined;
      // Non-matching mail looked at is passed over for good: the same filters never match it on the next call.
      const upTo = hit ?? fresh.at(-1);
      if (upTo) cursor = cursorAt(cursor, upTo);
      const email = hit && (await withBody(ctx, who, hit));
      // Its text reaches the agent, so it is audited as a read, as read_email's is.
      if (email) await ctx.store.recordRead(email, who.id, ctx.clock());
      return {
        mailbox: mailbox.address,
        email,
        cursor: encodeCursor(cursor),
        more: found >= 0 && fresh.slice(found + 1).some(match),
        timed_out: !hit && now >= deadline,
        waited_ms: Date.now() - started,
      };
    }
    if (opts.onProgress && now - lastProgress >= 1000) {
      lastProgress = now;
      await opts.onProgress(now - started, 'waiting for mail');
    }
    await sleepUntilChange(Math.min(opts.pollMs ?? 1000, deadline - now), opts.signal, ctx.changes);
    // With IDLE up here the sync is a no-op until the watcher reports mail; without it, ask the server now and then.
    if (cache && (cache.port.watching || Date.now() - lastSync >= UNWATCHED_SYNC_MS)) {
      await cache.foreground(() => cache.sync('INBOX'));
      lastSync = Date.now();
    }
  }
}

/** The starting point of a first call: the newest mail now (IMAP: UIDNEXT − 1), or just before the first mail dated `since`. */
async function baseline(ctx: AppContext, mailbox: Mailbox, imap: boolean, since: number | undefined): Promise<WaitCursor> {
  const state = imap ? await ctx.store.getFolderState(mailbox.address, 'INBOX') : undefined;
  const head: WaitCursor = { mb: mailbox.address, t: ctx.clock(), id: '', uv: state?.uidvalidity ?? null, uid: state ? state.uidnext - 1 : 0 };
  if (since === undefined) return head;
  if (!imap) return { ...head, t: since - 1, id: '\uffff' };
  const dated = (await inbox(ctx, mailbox.address)).filter((e) => e.date >= since && e.uid !== null && e.uidvalidity === head.uv);
  const first = Math.min(...dated.map((e) => e.uid!));
  return Number.isFinite(first) ? { ...head, uid: first - 1 } : head;
}

/** INBOX mail after the cursor, oldest first. */
async function newMail(ctx: AppContext, address: string, imap: boolean, c: WaitCursor): Promise<InboundEmail[]> {
  if (!imap) return (await inbox(ctx, address)).filter((e) => isAfter(e, c)).sort(byArrival);
  const state = await ctx.store.getFolderState(address, 'INBOX');
  if (!state) return [];
  // A new UIDVALIDITY renumbers the folder (RFC 3501 §2.3.1.1): nothing in it can be placed after the cursor,
  // so the wait starts over from the folder's newest mail rather than reporting the whole folder as new.
  if (state.uidvalidity !== c.uv) {
    Object.assign(c, { uv: state.uidvalidity, uid: state.uidnext - 1 });
    return [];
  }
  const uids = (await ctx.store.cachedUids(address, 'INBOX', state.uidvalidity)).filter((u) => u > c.uid);
  return (await ctx.store.emailsByUid(address, 'INBOX', uids)).sort(byArrival);
}

function inbox(ctx: AppContext, mailbox: string): Promise<InboundEmail[]> {
  return ctx.store.listEmails({ mailbox, folder: 'INBOX', unread_only: false, limit: SCAN_LIMIT });
}

function matcher(q: InboundQuery): (e: InboundEmail) => boolean {
  const from = q.from?.toLowerCase();
  const subject = q.subject?.toLowerCase();
  return (e) =>
    (!from || e.from_addr.toLowerCase().includes(from) || (e.from_name ?? '').toLowerCase().includes(from)) &&
    (!subject || e.subject.toLowerCase().includes(subject));
}
