/**
 * get_thread: the conversation an inbound email or an outbound message belongs to, in one mailbox, oldest first.
 * Messages are linked by Message-ID, In-Reply-To and References (RFC 5322 §3.6.4), followed transitively from
 * the start; a message with neither In-Reply-To nor References joins by subject (Re:/Fwd: stripped) when it
 * shares a correspondent, since only headers say for sure. A real mailbox syncs INBOX and its Sent folder and
 * asks the server (SEARCH HEADER) for replies whose References the cache has not fetched; the outbound mail
 * mailgate sent comes from the store.
 */
import { invalid } from '../errors.js';
import { listFolderInfo, sentFolderOf } from '../mail/imap/folders.js';
import { searchThreadUids } from '../mail/imap/threads.js';
import type { InboundEmail, Mailbox, OutboundMessage } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { imapSide } from './folders.js';
import { getEmailOrThrow, getMailboxOrThrow, getMessageOrThrow } from './scope.js';

export type ThreadEntry = (
  | { kind: 'email'; email: InboundEmail; message_id: string | null; outbound: boolean }
  | { kind: 'message'; message: OutboundMessage }
) & { matched_by: 'start' | 'headers' | 'subject'; at: number };

export interface ThreadResult {
  mailbox: string;
  /** Oldest first: the newest `limit` of the conversation. */
  entries: ThreadEntry[];
  total: number;
}

/** Rounds of following new Message-IDs, and how many a round asks about: a thread is bounded however it is linked. */
const MAX_ROUNDS = 5;
const IDS_PER_ROUND = 20;
const PER_KEY = 200;

type Headers = { message_id_header: string | null; in_reply_to_header: string | null; references_header: string | null };

export async function getThread(
  ctx: AppContext,
  who: Principal,
  q: { email_id?: string | undefined; message_id?: string | undefined; limit: number },
): Promise<ThreadResult> {
  if ((q.email_id === undefined) === (q.message_id === undefined)) throw invalid('email_id', 'give exactly one of email_id (em_...) or message_id (msg_...)');
  let start: InboundEmail | OutboundMessage = q.email_id ? await getEmailOrThrow(ctx, who, q.email_id) : await getMessageOrThrow(ctx, who, q.message_id!);
  const mailbox = await getMailboxOrThrow(ctx, who, start.mailbox);
  const imap = imapSide(ctx, mailbox);
  let folders = ['INBOX', 'Sent'];
  if (imap) {
    const sent = sentFolderOf(await listFolderInfo(imap.conn));
    folders = sent ? ['INBOX', sent] : ['INBOX'];
    for (const f of folders) await imap.cache.sync(f);
    // The References of an email are known once its body is (the IMAP envelope has only In-Reply-To).
    if ('email_id' in start && !start.has_body) {
      await imap.cache.loadBodies(start.folder, [start]);
      start = (await ctx.store.getEmail(start.email_id)) ?? start;
    }
  }
  const t = new Thread(mailbox, start);
  const expand = async () => {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const fresh = t.unqueried();
      if (fresh.length === 0) return;
      if (imap) {
        for (const folder of folders) {
          const hits = await ctx.store.emailsByUid(mailbox.address, folder, await searchThreadUids(imap.conn, folder, fresh));
          await imap.cache.loadBodies(folder, hits);
        }
      }
      for (const id of fresh) {
        const found = await ctx.store.threadOf(mailbox.address, id, PER_KEY);
        for (const e of found.emails) t.addEmail(e, 'headers');
        for (const m of found.sent) t.addMessage(m, 'headers');
      }
    }
  };
  await expand();
  await bySubject(ctx, t, folders, imap?.cache);
  await expand();
  const entries = t.entries();
  return { mailbox: mailbox.address, entries: entries.slice(-q.limit), total: entries.length };
}

/**
 * Adds the emails of INBOX and Sent that have no threading headers, the same subject and a shared correspondent:
 * a headerless reply (Re:, Fwd:), and then an original it may answer, sent before the first such reply. Two
 * originals of the same subject are never joined to each other without a reply between them.
 */
async function bySubject(
  ctx: AppContext,
  t: Thread,
  folders: string[],
  cache: { loadBodies(f: string, e: readonly InboundEmail[]): Promise<void> } | undefined,
) {
  const subject = baseSubject(t.start.subject);
  if (!subject) return;
  const candidates: InboundEmail[] = [];
  for (const folder of folders) {
    let found = (await ctx.store.searchEmails({ mailbox: t.mailbox.address, query: subject, folder, limit: PER_KEY })).filter(
      (e) => baseSubject(e.subject) === subject && t.sharesCorrespondent(e),
    );
    // The References header is known once the body is: an IMAP envelope has only In-Reply-To.
    if (cache && found.some((e) => !e.has_body)) {
      await cache.loadBodies(folder, found);
      found = (await Promise.all(found.map((e) => ctx.store.getEmail(e.email_id)))).filter((e): e is InboundEmail => !!e);
    }
    candidates.push(...found.filter((e) => !e.in_reply_to_header && !e.references_header));
  }
  for (const e of candidates) if (isReplySubject(e.subject)) t.addEmail(e, 'subject');
  const firstReply = Math.min(...t.headerlessReplies().map((e) => e.date));
  for (const e of candidates) if (!isReplySubject(e.subject) && e.date <= firstReply) t.addEmail(e, 'subject');
}

const REPLY_PREFIX = /^(\s*((re|fwd?|aw|sv|wg|antw)(\[\d+\])?\s*:)\s*)+/i;
const isReplySubject = (subject: string) => REPLY_PREFIX.test(subject);

/** The subject without reply and forward prefixes (Re:, Fwd:, AW:, SV:, Re[2]:), case and spacing folded. */
function baseSubject(subject: string): string {
  return subject.replace(REPLY_PREFIX, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Every Message-ID a message names in its own header, In-Reply-To and References. */
function headerIds(h: Headers): string[] {
  return [h.message_id_header, h.in_reply_to_header, h.references_header].flatMap((v) => (v ?? '').match(/<[^<>\s]+>/g) ?? []);
}

class Thread {
  private readonly emails = new Map<string, { email: InboundEmail; by: ThreadEntry['matched_by'] }>();
  private readonly messages = new Map<string, { message: OutboundMessage; by: ThreadEntry['matched_by'] }>();
  private readonly ids = new Set<string>();
  private readonly queried = new Set<string>();
  private readonly people: Set<string>;

  constructor(
    readonly mailbox: Mailbox,
    readonly start: InboundEmail | OutboundMessage,
  ) {
    if ('email_id' in start) this.addEmail(start, 'start');
    else this.addMessage(start, 'start');
    this.people = new Set([start.from_addr, ...start.to, ...start.cc].map((a) => a.toLowerCase()).filter((a) => a !== mailbox.address));
  }

  unqueried(): string[] {
    const fresh = [...this.ids].filter((id) => !this.queried.has(id)).slice(0, IDS_PER_ROUND);
    for (const id of fresh) this.queried.add(id);
    return fresh;
  }

  addEmail(e: InboundEmail, by: ThreadEntry['matched_by']): void {
    if (this.emails.has(e.email_id)) return;
    this.emails.set(e.email_id, { email: e, by });
    for (const id of headerIds(e)) this.ids.add(id);
  }

  addMessage(m: OutboundMessage, by: ThreadEntry['matched_by']): void {
    if (this.messages.has(m.message_id)) return;
    this.messages.set(m.message_id, { message: m, by });
    for (const id of headerIds(m)) this.ids.add(id);
  }

  /** The emails of the thread that look like replies but carry no threading headers. */
  headerlessReplies(): InboundEmail[] {
    return [...this.emails.values()].map((x) => x.email).filter((e) => !e.in_reply_to_header && !e.references_header && isReplySubject(e.subject));
  }

  sharesCorrespondent(e: InboundEmail): boolean {
    return [e.from_addr, ...e.to, ...e.cc].some((a) => this.people.has(a.toLowerCase()));
  }

  /**
   * One entry per message, oldest first: an email copy (which read_email can open) stands for the outbound
   * message with the same Message-ID, and carries its msg_ id.
   */
  entries(): ThreadEntry[] {
    const byHeader = new Map<string, { message: OutboundMessage; by: ThreadEntry['matched_by'] }>();
    for (const m of this.messages.values()) byHeader.set(m.message.message_id_header, m);
    const seen = new Set<string>();
    const out: ThreadEntry[] = [];
    for (const { email, by } of this.emails.values()) {
      const key = email.message_id_header ?? email.email_id;
      if (seen.has(key)) continue;
      seen.add(key);
      const sent = (email.message_id_header && byHeader.get(email.message_id_header)) || undefined;
      const outbound = email.delivery_role === 'sent' || email.from_addr.toLowerCase() === this.mailbox.address || !!sent;
      const matched_by = sent?.by === 'start' ? 'start' : by;
      out.push({ kind: 'email', email, message_id: sent?.message.message_id ?? null, outbound, matched_by, at: email.date });
    }
    for (const { message, by } of this.messages.values()) {
      if (seen.has(message.message_id_header)) continue;
      seen.add(message.message_id_header);
      out.push({ kind: 'message', message, matched_by: by, at: message.sent_at ?? message.created_at });
    }
    return out.sort((a, b) => a.at - b.at);
  }
}
