/**
 * The approval queue: list what is held, approve (optionally with edits), reject, cancel, and read a
 * message's status and history. Each decision is one guarded transaction in the store, so exactly one of
 * approve, reject, cancel and expiry wins; an approval then triggers delivery at once.
 */
import { canDraftAndDecide } from '../auth/principal.js';
import { invalid, MailgateError } from '../errors.js';
import type { AuditEvent, MailboxAction, MessageContent, OutboundMessage, PendingPage } from '../store/store.js';
import { headerTextProblem, isActionId, isEmailAddress } from '../values.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { checkFourEyes } from './four-eyes.js';
import { checkEditedRecipients } from './policy.js';
import { getActionOrThrow, getMailboxOrThrow, getMessageOrThrow, scopeFilter } from './scope.js';

/** What list_pending may ask for besides pending mail: one status of the lifecycle, or any. */
export const LISTABLE_STATUSES = [
  'pending',
  'approved',
  'queued',
  'sent',
  'rejected',
  'expired',
  'cancelled',
  'failed',
  'outcome_unknown',
  'blocked',
  'any',
] as const;
export type ListableStatus = (typeof LISTABLE_STATUSES)[number];
type MetadataFilter = Record<string, string | number | boolean>;

/** Keys end up in a JSON path in SQL (bound, but still a path), so they stay plain (the store checks again). */
export const METADATA_KEY = /^[A-Za-z0-9_.-]{1,64}$/;

export interface PendingListQuery {
  mailbox?: string | undefined;
  limit: number;
  cursor?: string | undefined;
  /** Default `pending`: held mail oldest first; any other status lists recent mail in it, newest first. */
  status?: ListableStatus | undefined;
  /** Every pair must match the message's metadata, values as JSON scalars. */
  metadata?: MetadataFilter | undefined;
}

/** The CLI passes filters the tools' zod schema never saw: the same rules, named by field. */
function checkFilters(q: PendingListQuery): void {
  if (q.status !== undefined && !(LISTABLE_STATUSES as readonly string[]).includes(q.status)) {
    throw invalid('status', `unknown status ${JSON.stringify(q.status)}; use one of ${LISTABLE_STATUSES.join(', ')}`);
  }
  const entries = Object.entries(q.metadata ?? {});
  if (entries.length > 20) throw invalid('metadata', 'at most 20 key/value pairs');
  for (const [key, value] of entries) {
    if (!METADATA_KEY.test(key)) throw invalid('metadata', `key ${JSON.stringify(key)}: use 1 to 64 letters, digits, '_', '.' or '-'`);
    if (!['string', 'number', 'boolean'].includes(typeof value)) throw invalid('metadata', `key ${key}: the value must be a string, number or boolean`);
  }
}

/**
 * Held messages, paged; with the first page (no cursor, no metadata filter), the held mailbox actions too
 * (tag_email in gated_all). With another status, recent messages in it and no actions.
 */
export async function listPending(ctx: AppContext, who: Principal, q: PendingListQuery): Promise<PendingPage & { actions: MailboxAction[] }> {
  checkFilters(q);
  const mailbox = q.mailbox ? (await getMailboxOrThrow(ctx, who, q.mailbox)).address : undefined;
  const status = q.status ?? 'pending';
  const base = { mailbox, mailboxes: scopeFilter(who), metadata: q.metadata, limit: q.limit, cursor: q.cursor };
  // Actions carry no metadata, so a metadata filter never matches one.
  const withActions = status === 'pending' && !q.cursor && Object.keys(q.metadata ?? {}).length === 0;
  const actions = withActions ? await ctx.store.listPendingActions({ mailbox, mailboxes: scopeFilter(who), limit: q.limit, now: ctx.clock() }) : [];
  try {
    const page = status === 'pending' ? await ctx.store.listPending({ ...base, now: ctx.clock() }) : await ctx.store.listByStatus({ ...base, status });
    return { actions, ...page };
  } catch (err) {
    if (err instanceof Error && err.message === 'bad cursor') {
      throw new MailgateError('INVALID_INPUT', 'cursor: not a cursor from list_pending; omit it to start from the first page', { field: 'cursor' });
    }
    throw err;
  }
}

/**
 * How a person confirmed an approval, kept in the message.approved audit detail: `cli` (at the terminal),
 * `reviewer_session` (an MCP session that cannot draft mail, so no model drafted and approved),
 * `elicitation_url` (a one-time link the person opened in a browser), `elicitation_form` (a confirmation form
 * in the MCP client). src/services/confirm.ts chooses among the last two for sessions that can also draft.
 */
export type ConfirmationPath = 'cli' | 'reviewer_session' | 'elicitation_url' | 'elicitation_form';

export interface Approval {
  note?: string | null | undefined;
  edits?: Partial<MessageContent> | null | undefined;
  /** Default: `cli` for a cli: principal, else `reviewer_session`. */
  confirmation?: ConfirmationPath | undefined;
}

export async function approveMessage(ctx: AppContext, who: Principal, id: string, a: Approval = {}): Promise<OutboundMessage> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'approving mail');
  const confirmation = a.confirmation ?? (who.id.startsWith('cli:') ? 'cli' : 'reviewer_session');
  // Defence in depth: the tools send such sessions through confirm.ts; no other caller may skip the person.
  if (canDraftAndDecide(who.roles) && confirmation !== 'elicitation_form') {
    throw new MailgateError('CONFIRMATION_REQUIRED', `this session can draft mail as well as approve it, so a person must confirm approving ${id}`, {
      field: 'message_id',
    });
  }
  const m = await getMessageOrThrow(ctx, who, id);
  await checkFourEyes(ctx, who, m);
  if (a.edits && Object.values(a.edits).some((v) => v !== undefined)) {
    checkEdits(m, a.edits);
    await checkEditedRecipients(ctx, m, a.edits);
  }
  await ctx.store.decideMessage(id, { action: 'approve', actor: who.id, note: a.note ?? null, edits: a.edits ?? null, confirmation }, ctx.clock());
  // Deliver now so the reviewer sees the result; if another process's worker got there first, fine.
  await ctx.worker.tick();
  return (await ctx.store.getMessage(id))!;
}

/** Edits must leave a message that send_email itself would accept: recipients, a subject, a body. */
function checkEdits(m: OutboundMessage, edits: Partial<MessageContent>): void {
  const merged = { ...m, ...Object.fromEntries(Object.entries(edits).filter(([, v]) => v !== undefined)) } as MessageContent;
  if (merged.to.length + merged.cc.length + merged.bcc.length === 0) throw invalid('edits.to', 'the edits leave the message with no recipients');
  if (!merged.subject.trim()) throw invalid('edits.subject', 'the edits leave the message with an empty subject');
  // Every client's edits meet the same header rule as send_email's (CLI and dashboard included).
  const subjectProblem = headerTextProblem('subject', merged.subject);
  if (subjectProblem) throw invalid('edits.subject', subjectProblem);
  for (const field of ['to', 'cc', 'bcc'] as const) {
    const bad = merged[field].find((a) => !isEmailAddress(a));
    if (bad !== undefined) throw invalid(`edits.${field}`, `${JSON.stringify(bad)} is not a valid email address; use the form name@example.com`);
  }
  if (!merged.text?.trim() && !merged.html?.trim()) throw invalid('edits.text', 'the edits leave the message with no body; give text or html');
}

export async function rejectMessage(ctx: AppContext, who: Principal, id: string, reason: string): Promise<OutboundMessage> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'rejecting mail');
  await getMessageOrThrow(ctx, who, id);
  return ctx.store.decideMessage(id, { action: 'reject', actor: who.id, reason }, ctx.clock());
}

export async function cancelMessage(ctx: AppContext, who: Principal, id: string): Promise<OutboundMessage> {
  await requireRole(ctx, who, ['agent', 'operator'], 'cancelling a held message');
  const m = await getMessageOrThrow(ctx, who, id);
  // An agent withdraws only what it drafted itself; an operator may withdraw anything.
  if (!who.roles.includes('operator') && m.created_by !== who.id) {
    throw new MailgateError(
      'FORBIDDEN',
      `${id} was drafted by ${m.created_by}, not by this session (${who.id}); only its author or an operator can cancel it`,
      { field: 'message_id' },
    );
  }
  return ctx.store.decideMessage(id, { action: 'cancel', actor: who.id }, ctx.clock());
}

export async function messageHistory(ctx: AppContext, who: Principal, id: string): Promise<{ message: OutboundMessage; events: AuditEvent[] }> {
  const message = await getMessageOrThrow(ctx, who, id);
  return { message, events: await ctx.store.audit({ message_id: id, limit: 500 }) };
}

export async function auditTrail(
  ctx: AppContext,
  who: Principal,
  q: { message_id?: string | undefined; mailbox?: string | undefined; limit: number },
): Promise<AuditEvent[]> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'reading the audit log');
  if (q.message_id) await (isActionId(q.message_id) ? getActionOrThrow(ctx, who, q.message_id) : getMessageOrThrow(ctx, who, q.message_id));
  const mailbox = q.mailbox ? (await getMailboxOrThrow(ctx, who, q.mailbox)).address : undefined;
  return ctx.store.audit({ message_id: q.message_id, mailbox, mailboxes: scopeFilter(who), limit: q.limit });
}

/** get_audit for one message shows its metadata too (the send's key/value pairs, the Art. 22 mark); null for an action. */
export async function messageMetadata(ctx: AppContext, who: Principal, id: string): Promise<Record<string, unknown> | null> {
  if (isActionId(id)) return (await getActionOrThrow(ctx, who, id)) && null;
  return (await getMessageOrThrow(ctx, who, id)).metadata ?? null;
}
