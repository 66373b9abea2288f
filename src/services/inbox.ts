/**
 * Reading and tagging inbound mail. Reads always execute (every mode allows them) after the transport has
 * synced the folder; tagging is a write and goes through the gate like a send, so gated_all holds it.
 */
import { invalid } from '../errors.js';
import { newActionId } from '../ids.js';
import type { SearchFilters } from '../store/inbox.js';
import type { InboundEmail, Mailbox, MailboxAction, TagAction } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { unknownFolderError } from './folders.js';
import type { InboxCache } from './inbox-cache.js';
import { getEmailOrThrow, getMailboxOrThrow } from './scope.js';
import { cacheFor } from './mailbox-cache.js';
import { gateFor } from './send.js';

export async function checkInbox(
  ctx: AppContext,
  who: Principal,
  q: { mailbox: string; folder: string; unread_only: boolean; limit: number },
): Promise<InboundEmail[]> {
  const mailbox = await getMailboxOrThrow(ctx, who, q.mailbox);
  const cache = cacheFor(ctx, mailbox);
  return cache ? cache.foreground(() => listInbox(ctx, mailbox, cache, q)) : listInbox(ctx, mailbox, undefined, q);
}

async function listInbox(
  ctx: AppContext,
  mailbox: Mailbox,
  cache: InboxCache | undefined,
  q: { mailbox: string; folder: string; unread_only: boolean; limit: number },
): Promise<InboundEmail[]> {
  // A first sync of a big folder caches only this page before answering (the backfill fetches the rest after).
  await cache?.sync(q.folder, { newest: q.limit });
  // While a big folder is still being backfilled, its older unread mail may not be cached yet: ask the server.
  if (cache && q.unread_only) await cache.cacheOlder(q.folder, { unseen: true }, q.limit);
  let emails = await ctx.store.listEmails({ ...q, mailbox: mailbox.address });
  if (cache && !q.unread_only && (await pageIncomplete(ctx, mailbox.address, q.folder, emails, q.limit))) {
    await cache.cacheOlder(q.folder, {}, q.limit);
    emails = await ctx.store.listEmails({ ...q, mailbox: mailbox.address });
  }
  // Snippets need bodies: fetch those of this page that only have an envelope cached (once each).
  if (cache && emails.some((e) => !e.has_body)) {
    await cache.loadBodies(q.folder, emails);
    emails = await ctx.store.listEmails({ ...q, mailbox: mailbox.address });
  }
  if (emails.length === 0) await requireSandboxFolder(ctx, mailbox, q.folder);
  return emails;
}

/**
 * Whether a listing may miss messages the backfill has not cached yet: everything from the folder's backfill mark
 * up is cached, so a full page drawn from there alone is complete. Otherwise (a page larger than the one the first
 * sync cached, asked before the backfill's first batch is in) the newest `limit` below the mark are fetched first.
 */
async function pageIncomplete(ctx: AppContext, address: string, folder: string, page: readonly InboundEmail[], limit: number): Promise<boolean> {
  const mark = (await ctx.store.getFolderState(address, folder))?.backfill_below;
  if (!mark) return false;
  return page.length < limit || page.some((e) => e.uid !== null && e.uid < mark);
}

/**
 * The sandbox has no folder list of its own: a folder exists once mail is in it, INBOX and Sent always (as
 * list_folders shows them). An IMAP folder that does not exist is refused by the server when a sync opens it.
 */
async function requireSandboxFolder(ctx: AppContext, mailbox: Mailbox, folder: string): Promise<void> {
  if (mailbox.transport !== 'sandbox' || folder === 'INBOX' || folder === 'Sent') return;
  const folders = await ctx.store.listFolders(mailbox.address);
  if (!folders.includes(folder)) throw unknownFolderError(mailbox.address, folder, [...new Set(['INBOX', 'Sent', ...folders])]);
}

export async function readEmail(ctx: AppContext, who: Principal, id: string): Promise<InboundEmail> {
  const email = await withBody(ctx, who, await getEmailOrThrow(ctx, who, id));
  await ctx.store.recordRead(email, who.id, ctx.clock());
  return email;
}

/** The email with its body, fetched from the server first when only its envelope is cached (once). */
export async function withBody(ctx: AppContext, who: Principal, email: InboundEmail): Promise<InboundEmail> {
  const cache = email.has_body ? undefined : cacheFor(ctx, await getMailboxOrThrow(ctx, who, email.mailbox));
  if (!cache) return email;
  await cache.foreground(() => cache.loadBodies(email.folder, [email]));
  return getEmailOrThrow(ctx, who, email.email_id);
}

export interface SearchResult {
  emails: InboundEmail[];
  /** `cache`: the local index answered alone; `cache+server`: IMAP SEARCH covered messages not yet fetched. */
  source: 'cache' | 'cache+server';
  /**
   * How much of the searched folder the local index holds: messages with their bodies indexed, and messages in
   * the folder on the server at the last sync. Null for a sandbox mailbox, whose mail is all indexed on arrival.
   */
  indexed: number | null;
  total: number | null;
  /** Set when a filter could be applied only to part of the folder (has_attachment before bodies are indexed). */
  note?: string;
}

export interface SearchRequest {
  mailbox: string;
  query?: string | undefined;
  folder?: string | undefined;
  /** Absent: the query alone (as before filters existed). */
  filters?: SearchFilters | undefined;
  limit: number;
}

export async function searchEmail(ctx: AppContext, who: Principal, q: SearchRequest): Promise<SearchResult> {
  const mailbox = await getMailboxOrThrow(ctx, who, q.mailbox);
  if (q.query === undefined && Object.values(q.filters ?? {}).every((v) => v === undefined)) {
    throw invalid('query', 'nothing to search for; give a query, or a filter such as from, subject, since, unread or flagged');
  }
  const cache = cacheFor(ctx, mailbox);
  if (!cache && q.folder) await requireSandboxFolder(ctx, mailbox, q.folder);
  const folder = q.folder ?? 'INBOX';
  const search = () => searchFolder(ctx, mailbox, cache, folder, q);
  return cache ? cache.foreground(search) : search();
}

async function searchFolder(ctx: AppContext, mailbox: Mailbox, cache: InboxCache | undefined, folder: string, q: SearchRequest): Promise<SearchResult> {
  await cache?.sync(folder);
  // What the local index lacks (messages the backfill has not reached, cached ones without bodies) is searched on the
  // server, newest first, until the page is full (every filter but has_attachment, which IMAP SEARCH cannot ask);
  // the hits the page can show are cached with their bodies, so the local search below then decides exactly.
  const { has_attachment: _, unread, ...server } = q.filters ?? {};
  const criteria = { ...server, ...(unread === undefined ? {} : { unseen: unread }), ...(q.query === undefined ? {} : { text: q.query }) };
  const filtered = Object.values(q.filters ?? {}).some((v) => v !== undefined);
  const found = await cache?.searchUnindexed(folder, criteria, {
    limit: q.limit,
    newestOnly: !filtered,
    pageFrom: async (from) => {
      const page = await ctx.store.searchEmails({ ...q, mailbox: mailbox.address });
      return page.length >= q.limit && page.every((e) => e.uid !== null && e.uid >= from);
    },
  });
  const source: SearchResult['source'] = found?.asked ? 'cache+server' : 'cache';
  // Bodies still unfetched, known from that step when it ran (counting them reads every cached row of the folder).
  const unfetched = found?.unfetched;
  const emails = await ctx.store.searchEmails({ ...q, mailbox: mailbox.address });
  if (!cache) return { emails, source, indexed: null, total: null };
  const cover = await coverage(ctx, mailbox.address, folder, unfetched);
  const partly = q.filters?.has_attachment !== undefined && cover.indexed < cover.total;
  return {
    emails,
    source,
    ...cover,
    ...(partly
      ? {
          note: `has_attachment was checked on the ${cover.indexed} of ${cover.total} messages whose bodies are indexed; the rest are still being fetched, so search again later for them`,
        }
      : {}),
  };
}

/** Indexed bodies against the folder's size on the server (search_email's indexed / total). */
async function coverage(ctx: AppContext, address: string, folder: string, known?: number): Promise<{ indexed: number; total: number }> {
  const state = await ctx.store.getFolderState(address, folder);
  if (!state) return { indexed: 0, total: 0 };
  const cached = await ctx.store.cachedCount(address, folder, state.uidvalidity);
  const unfetched = known ?? (await ctx.store.unfetchedUids(address, folder)).length;
  return { indexed: Math.max(0, cached - unfetched), total: Number(state.messages) };
}

/** What tag_email answers: `applied` once the worker has done it, `queued` while it waits to be applied. */
export interface ActionResult {
  action_id: string;
  status: 'applied' | 'queued' | 'pending' | 'blocked' | 'failed' | 'rejected' | 'expired' | 'cancelled';
  expires_at?: string;
  reason?: string;
  error?: string;
}

export async function tagEmail(
  ctx: AppContext,
  who: Principal,
  input: Omit<TagAction, 'move_to'> & { move_to?: string | null | undefined },
): Promise<ActionResult> {
  await requireRole(ctx, who, ['agent'], 'tagging mail');
  const email = await getEmailOrThrow(ctx, who, input.email_id);
  const action: TagAction = { email_id: email.email_id, add_flags: input.add_flags, remove_flags: input.remove_flags, move_to: input.move_to ?? null };
  let a = await ctx.store.submitAction(
    { action_id: newActionId(), mailbox: email.mailbox, action, actor: who.id },
    gateFor(ctx, { kind: 'write', operation: action.move_to ? 'move' : 'tag' }),
    ctx.clock(),
  );
  if (a.status === 'approved') {
    await ctx.worker.tick();
    a = (await ctx.store.getAction(a.action_id)) ?? a;
  }
  return describeAction(a);
}

/** A held or applied mailbox action as tag_email and delete_email answer it. */
export function describeAction(a: MailboxAction): ActionResult {
  const base = { action_id: a.action_id };
  switch (a.status) {
    case 'pending':
      return { ...base, status: 'pending', expires_at: new Date(a.expires_at!).toISOString(), reason: a.gate_reason };
    case 'blocked':
      return { ...base, status: 'blocked', error: a.gate_code, reason: a.gate_reason };
    case 'approved':
      return { ...base, status: 'queued', ...(a.last_error ? { reason: `will retry: ${a.last_error}` } : {}) };
    case 'failed':
      return { ...base, status: 'failed', reason: a.last_error ?? 'the mail server refused the action' };
    case 'applied':
      return { ...base, status: 'applied' };
    default:
      return { ...base, status: a.status, ...(a.decision_reason ? { reason: a.decision_reason } : {}) };
  }
}
