/**
 * The approval queue: list what is held, approve (optionally with edits), reject, cancel, and read a
 * message's status and history. Each decision is one guarded transaction in the store, so exactly one of
 * approve, reject, cancel and expiry wins; an approval then triggers delivery at once.
 */
import { MailgateError } from '../errors.js';
import type { AuditEvent, MessageContent, OutboundMessage, PendingPage } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { getMailboxOrThrow } from './mailboxes.js';

export async function listPending(ctx: AppContext, q: { mailbox?: string | undefined; limit: number; cursor?: string | undefined }): Promise<PendingPage> {
  const mailbox = q.mailbox ? (await getMailboxOrThrow(ctx, q.mailbox)).address : undefined;
  // Expire what is due first, so the queue never shows mail that can no longer be approved.
  await ctx.store.expireDue(ctx.clock(), 1000);
  try {
    return await ctx.store.listPending({ mailbox, limit: q.limit, cursor: q.cursor });
  } catch (err) {
    if (err instanceof Error && err.message === 'bad cursor') {
      throw new MailgateError('INVALID_INPUT', 'cursor: not a cursor from list_pending; omit it to start from the first page', { field: 'cursor' });
    }
    throw err;
  }
}

export interface Approval {
  note?: string | null | undefined;
  edits?: Partial<MessageContent> | null | undefined;
}

export async function approveMessage(ctx: AppContext, who: Principal, id: string, a: Approval = {}): Promise<OutboundMessage> {
  requireRole(who, ['reviewer', 'operator'], 'approving mail');
  await ctx.store.decideMessage(id, { action: 'approve', actor: who.id, note: a.note ?? null, edits: a.edits ?? null }, ctx.clock());
  // Deliver now so the reviewer sees the result; if another process's worker got there first, fine.
  await ctx.worker.tick();
  return (await ctx.store.getMessage(id))!;
}

export async function rejectMessage(ctx: AppContext, who: Principal, id: string, reason: string): Promise<OutboundMessage> {
  requireRole(who, ['reviewer', 'operator'], 'rejecting mail');
  return ctx.store.decideMessage(id, { action: 'reject', actor: who.id, reason }, ctx.clock());
}

export async function cancelMessage(ctx: AppContext, who: Principal, id: string): Promise<OutboundMessage> {
  requireRole(who, ['agent', 'operator'], 'cancelling a held message');
  return ctx.store.decideMessage(id, { action: 'cancel', actor: who.id }, ctx.clock());
}

export async function getMessageOrThrow(ctx: AppContext, id: string): Promise<OutboundMessage> {
  const m = await ctx.store.getMessage(id);
  if (!m) throw new MailgateError('UNKNOWN_MESSAGE', `no outbound message '${id}'; send_email returns message ids and list_pending lists held ones`, { field: 'message_id' });
  return m;
}

export async function messageHistory(ctx: AppContext, id: string): Promise<{ message: OutboundMessage; events: AuditEvent[] }> {
  const message = await getMessageOrThrow(ctx, id);
  return { message, events: await ctx.store.audit({ message_id: id, limit: 500 }) };
}

export async function auditTrail(ctx: AppContext, who: Principal, q: { message_id?: string | undefined; mailbox?: string | undefined; limit: number }): Promise<AuditEvent[]> {
  requireRole(who, ['reviewer', 'operator'], 'reading the audit log');
  if (q.message_id) await getMessageOrThrow(ctx, q.message_id);
  const mailbox = q.mailbox ? (await getMailboxOrThrow(ctx, q.mailbox)).address : undefined;
  return ctx.store.audit({ message_id: q.message_id, mailbox, limit: q.limit });
}
