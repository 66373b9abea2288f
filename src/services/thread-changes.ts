/**
 * What a held reply changes against its thread (src/gate/thread-changes.ts), for the reviewer's views: the
 * dashboard's message page, and get_message and list_pending.
 *
 * The thread is the email the draft replies to, the other inbound emails of its thread, and what this mailbox
 * actually sent in it. Drafts that were never sent are left out (a model could seed the thread with a rejected
 * draft carrying the new IBAN), and so is anything that arrived after the draft was written (a later message
 * from the fraudster must not make the draft's new numbers look familiar).
 */
import { type ThreadChange, threadChanges, type ThreadPart } from '../gate/thread-changes.js';
import type { InboundEmail, OutboundMessage } from '../store/store.js';
import type { AppContext } from './context.js';

/** Enough history for any real thread; a longer one is compared with its oldest part. */
const THREAD_LIMIT = 200;

export interface ThreadReport {
  /** False when the message is not a reply: there is no thread, and only link text/target mismatches are checked. */
  compared: boolean;
  /** The reply's email is no longer stored, so the thread it was compared with is what remains of it. */
  replyMissing: boolean;
  changes: ThreadChange[];
}

const fromEmail = (e: InboundEmail): ThreadPart => ({ from: e.from_addr, to: e.to, cc: e.cc, subject: e.subject, text: e.text, html: e.html });
const fromMessage = (m: OutboundMessage): ThreadPart => ({ from: m.from_addr, to: m.to, cc: m.cc, bcc: m.bcc, subject: m.subject, text: m.text, html: m.html });

export async function threadReport(ctx: AppContext, m: OutboundMessage): Promise<ThreadReport> {
  const draft = fromMessage(m);
  if (!m.reply_to_email_id) return { compared: false, replyMissing: false, changes: threadChanges(draft, null) };
  const found = await ctx.store.getEmail(m.reply_to_email_id);
  const email = found && found.mailbox === m.mailbox ? found : undefined;
  const key = m.thread_key ?? email?.message_id_header ?? null;
  const { emails, sent } = key ? await ctx.store.threadOf(m.mailbox, key, THREAD_LIMIT) : { emails: [], sent: [] };
  const earlier = emails.filter((e) => e.email_id !== email?.email_id && e.outbound_message_id !== m.message_id && e.received_at <= m.created_at);
  const thread = [
    ...(email ? [fromEmail(email)] : []),
    ...earlier.map(fromEmail),
    ...sent.filter((s) => s.message_id !== m.message_id && s.created_at <= m.created_at).map(fromMessage),
  ];
  return { compared: true, replyMissing: !email, changes: threadChanges(draft, thread) };
}

/** The brief form get_message and list_pending carry (tools/shapes.ts threadChangeFields). */
export async function threadFields(
  ctx: AppContext,
  m: OutboundMessage,
): Promise<{ thread_compared: boolean; thread_changes: { kind: ThreadChange['kind']; value: string }[] }> {
  const r = await threadReport(ctx, m);
  return { thread_compared: r.compared, thread_changes: r.changes.map((c) => ({ kind: c.kind, value: c.value })) };
}
