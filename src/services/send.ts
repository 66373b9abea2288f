/**
 * Submitting a send or a reply: one action, one gate decision inside the store's transaction, and, when the
 * gate lets it go, an immediate delivery attempt so the caller learns `sent` in the same call.
 */
import { invalid } from '../errors.js';
import { evaluate } from '../gate/evaluate.js';
import { automatedDecisionOf, type DraftAttachment } from '../gate/policy/index.js';
import { findSecrets } from '../gate/policy/secrets.js';
import type { Action } from '../gate/types.js';
import { newMessageId, newMessageIdHeader } from '../ids.js';
import { guessContentType } from '../mail/content-type.js';
import type { GateFn, MessageContent, NewAttachment, OutboundMessage, SubmitResult } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { deliverInline } from './deliver-inline.js';
import { quotedReplyText } from './reply-quote.js';
import { getEmailOrThrow, getMailboxOrThrow } from './scope.js';
import { isEmailAddress, withoutHeaderControls } from '../values.js';

/** An attachment as a tool gives it: bytes already decoded from base64. */
interface AttachmentInput {
  filename: string;
  content_type?: string | undefined;
  content: Buffer;
}

export interface SendInput {
  mailbox: string;
  attachments?: AttachmentInput[] | undefined;
  to: string[];
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
  subject: string;
  text?: string | undefined;
  html?: string | undefined;
  idempotency_key?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface ReplyInput {
  email_id: string;
  /** Extra recipients beyond the thread's; a reply that adds people is held by the new_recipient content hold. */
  cc?: string[] | undefined;
  bcc?: string[] | undefined;
  attachments?: AttachmentInput[] | undefined;
  text?: string | undefined;
  html?: string | undefined;
  reply_all?: boolean | undefined;
  /** Quote the original under the text (default: config `reply_quote`). */
  quote?: boolean | undefined;
  idempotency_key?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface SendOutcome {
  message_id: string;
  /** For a rate limit: when a send can succeed again (ISO time). */
  retry_after?: string;
  /** For a duplicate: the first message, to follow instead of sending again. */
  duplicate_of?: string;
  status: 'sent' | 'queued' | 'pending' | 'blocked' | 'failed' | 'rejected' | 'expired' | 'cancelled' | 'outcome_unknown';
  expires_at?: string;
  reason?: string;
  error?: string;
}

export async function sendEmail(ctx: AppContext, who: Principal, input: SendInput): Promise<SendOutcome> {
  await requireRole(ctx, who, ['agent'], 'sending mail');
  const mailbox = await getMailboxOrThrow(ctx, who, input.mailbox);
  const content = contentOf(input, input.subject);
  if (!content.subject.trim()) throw invalid('subject', 'subject is empty; give the email a subject');
  const result = await submit(ctx, who, {
    mailbox: mailbox.address,
    kind: 'send',
    content,
    idempotency_key: input.idempotency_key,
    metadata: input.metadata ?? null,
    attachments: input.attachments,
    thread_participants: null,
  });
  return outcome(ctx, result);
}

export async function replyEmail(ctx: AppContext, who: Principal, input: ReplyInput): Promise<SendOutcome> {
  await requireRole(ctx, who, ['agent'], 'replying to mail');
  const email = await getEmailOrThrow(ctx, who, input.email_id);
  const self = email.mailbox;
  // The sender's From is outside text: one that is not a single plain address (an ESMTP parameter smuggled
  // after '>', a line break, a group, a list) must never become an envelope recipient. Not echoed: it is hostile.
  if (!isEmailAddress(email.from_addr)) {
    throw invalid(
      'email_id',
      `the sender address of ${email.email_id} is not a single valid email address, so it cannot be replied to safely; ` +
        'to answer this person, use send_email with an address you have checked',
    );
  }
  const to = [email.from_addr];
  const threadCc = input.reply_all ? [...new Set([...email.to, ...email.cc])].filter((a) => a !== self && a !== email.from_addr) : [];
  if (threadCc.some((a) => !isEmailAddress(a))) {
    throw invalid(
      'reply_all',
      `one of the other recipients of ${email.email_id} is not a valid email address; reply without reply_all, and add people you have checked with cc`,
    );
  }
  const cc = [...new Set([...threadCc, ...(input.cc ?? [])])].filter((a) => a !== self && !to.includes(a));
  // RFC 5322 §3.6.4: In-Reply-To is the parent's Message-ID; References is the parent's References plus it.
  // Only well-formed msg-ids are carried over: the parent's headers are the sender's text.
  const parentId = msgIds(email.message_id_header)[0] ?? null;
  const refs = [...msgIds(email.references_header), ...(parentId ? [parentId] : [])];
  const references = refs.length ? refs.join(' ') : null;
  // The parent's subject may hold control characters (a NUL, a line separator): they are dropped, not refused.
  const parentSubject = withoutHeaderControls(email.subject);
  const subject = /^re:/i.test(parentSubject.trim()) ? parentSubject : `Re: ${parentSubject}`;
  const text = await quotedReplyText(ctx, who, email, input.text, input.quote);
  const content = contentOf({ to, cc, bcc: input.bcc, text, html: input.html }, subject);
  const result = await submit(ctx, who, {
    mailbox: self,
    kind: 'reply',
    content,
    idempotency_key: input.idempotency_key,
    metadata: input.metadata,
    reply_to_email_id: email.email_id,
    in_reply_to_header: parentId,
    references_header: references,
    attachments: input.attachments,
    // Everyone already in the conversation; anyone else the reply adds is held for a human (content_holds).
    thread_participants: [email.from_addr, ...email.to, ...email.cc],
  });
  return outcome(ctx, result);
}

function contentOf(
  input: { to: string[]; cc?: string[] | undefined; bcc?: string[] | undefined; text?: string | undefined; html?: string | undefined },
  subject: string,
): MessageContent {
  const text = input.text ?? null;
  const html = input.html ?? null;
  if (!text?.trim() && !html?.trim()) throw invalid('text', 'the email has no body; give text (or html)');
  return { to: input.to, cc: input.cc ?? [], bcc: input.bcc ?? [], subject, text, html };
}

interface SubmitArgs {
  mailbox: string;
  kind: 'send' | 'reply';
  content: MessageContent;
  idempotency_key?: string | undefined;
  metadata?: Record<string, unknown> | null;
  reply_to_email_id?: string | null;
  in_reply_to_header?: string | null;
  references_header?: string | null;
  attachments?: AttachmentInput[] | undefined;
  thread_participants: readonly string[] | null;
}

async function submit(ctx: AppContext, who: Principal, a: SubmitArgs): Promise<SubmitResult> {
  const c = a.content;
  const files = (a.attachments ?? []).map(attachmentFile);
  // Scanned here, before the store's write transaction: megabytes of regex work must not hold the lock.
  const scanned = files.map((f) => ({ filename: f.filename, content_type: f.content_type, size: f.content.length, secrets: findSecrets(textOf(f)) }));
  const action = draftAction(a.mailbox, a.kind, c, scanned, a.thread_participants, a.metadata);
  const messageIdHeader = newMessageIdHeader(a.mailbox);
  return ctx.store.submitMessage(
    {
      message_id: newMessageId(),
      message_id_header: messageIdHeader,
      mailbox: a.mailbox,
      kind: a.kind,
      content: c,
      metadata: a.metadata ?? null,
      idempotency_key: a.idempotency_key ?? null,
      reply_to_email_id: a.reply_to_email_id ?? null,
      in_reply_to_header: a.in_reply_to_header ?? null,
      references_header: a.references_header ?? null,
      actor: who.id,
      attachments: files,
      policy: ctx.settings.policy,
      thread_key: threadRoot(a.references_header ?? null, a.in_reply_to_header ?? null) ?? messageIdHeader,
    },
    gateFor(ctx, action),
    ctx.clock(),
  );
}

/** The gate's view of a draft: one builder for a real submit and for `mailgate policy test`, so the two agree. */
export function draftAction(
  mailbox: string,
  kind: 'send' | 'reply',
  c: MessageContent,
  attachments: readonly DraftAttachment[],
  threadParticipants: readonly string[] | null,
  metadata?: Readonly<Record<string, unknown>> | null,
): Action {
  return {
    kind: 'send',
    recipients: [...new Set([...c.to, ...c.cc, ...c.bcc])],
    subject: c.subject,
    isReply: kind === 'reply',
    mailbox,
    text: c.text,
    html: c.html,
    attachments,
    threadParticipants,
    // GDPR Art. 22: the agent's mark that the draft decides about a person (src/gate/policy/article22.ts).
    automatedDecision: automatedDecisionOf(metadata),
  };
}

/** The pure gate for one draft, closed over the global settings; the store supplies mailbox, facts and limits. */
export function gateFor(ctx: AppContext, action: Action): GateFn {
  const global = { requireApproval: ctx.settings.requireApproval };
  return (mailbox, facts, limits) => evaluate({ mode: mailbox.oversight_mode, rules: mailbox.auto_approve_rules, limits }, global, action, facts);
}

/** The msg-ids (RFC 5322 §3.6.4 `<left@right>`) in a header value, anything else between them dropped. */
function msgIds(header: string | null): string[] {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a msg-id never contains a control character, so one ends it
  return header?.match(/<[^<>\s\u0000-\u001F\u007F-\u009F\u2028\u2029]+>/g) ?? [];
}

/** The first Message-ID of References (the thread's root), else In-Reply-To (RFC 5322 §3.6.4). */
function threadRoot(references: string | null, inReplyTo: string | null): string | null {
  return /<[^<>\s]+>/.exec(references ?? '')?.[0] ?? /<[^<>\s]+>/.exec(inReplyTo ?? '')?.[0] ?? null;
}

function attachmentFile(a: AttachmentInput): NewAttachment {
  return { filename: a.filename, content_type: a.content_type ?? guessContentType(a.filename), content: a.content };
}

/**
 * The attachment's bytes as text for the secrets check. Every attachment is scanned, whatever its name or type
 * claims: credentials are ASCII, and latin1 maps each byte to one character, so nothing is skipped or mangled.
 */
function textOf(f: NewAttachment): string {
  return f.content.toString('latin1');
}

/** Delivers now when the gate allowed it, then reports the status in the send vocabulary. */
async function outcome(ctx: AppContext, result: SubmitResult): Promise<SendOutcome> {
  let m = result.message;
  // Its own message only: a pass over every mailbox would make this caller wait behind everyone's backlog.
  if (!result.replayed && m.status === 'queued') m = (await deliverInline(ctx, m.message_id)) ?? m;
  return describe(m);
}

function describe(m: OutboundMessage): SendOutcome {
  const base = { message_id: m.message_id };
  switch (m.status) {
    case 'pending':
      return { ...base, status: 'pending', expires_at: new Date(m.expires_at!).toISOString(), reason: m.gate_reason };
    case 'blocked':
      return { ...base, status: 'blocked', error: m.gate_code, reason: m.gate_reason, ...blockDetails(m) };
    case 'sent':
      return { ...base, status: 'sent' };
    case 'failed':
      return { ...base, status: 'failed', reason: m.last_error ?? 'delivery failed' };
    case 'approved':
    case 'queued':
    case 'sending':
      return { ...base, status: 'queued', ...(m.last_error ? { reason: `will retry: ${m.last_error}` } : {}) };
    default:
      // rejected, expired, cancelled, outcome_unknown: seen on an idempotent replay of an old key.
      return { ...base, status: m.status, ...(m.decision_reason || m.last_error ? { reason: (m.decision_reason ?? m.last_error)! } : {}) };
  }
}

/** What an agent needs to act on a policy block: when to retry, which message it duplicates. */
function blockDetails(m: OutboundMessage): Pick<SendOutcome, 'retry_after' | 'duplicate_of'> {
  const d = m.policy_hits[0]?.details ?? {};
  return {
    ...(typeof d.retry_after === 'string' ? { retry_after: d.retry_after } : {}),
    ...(typeof d.duplicate_of === 'string' ? { duplicate_of: d.duplicate_of } : {}),
  };
}
