/**
 * Review of held mailbox actions (tag_email in gated_all): approve, reject, cancel and read one, with the same
 * role, scope and four-eyes checks as held mail. An approval hands the action to the delivery worker, which
 * applies it through the mail port (src/services/deliver.ts).
 */
import { canDraftAndDecide } from '../auth/principal.js';
import { invalid, MailgateError } from '../errors.js';
import type { AuditEvent, InboundEmail, MailboxAction, OutboundMessage } from '../store/store.js';
import { isActionId } from '../values.js';
import { type ApprovalCall, approveFromSession } from './confirm.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { checkFourEyes } from './four-eyes.js';
import { type Approval, approveMessage, cancelMessage, type ConfirmationPath, messageHistory, rejectMessage } from './review.js';
import { getActionOrThrow, inScope } from './scope.js';

async function approveAction(
  ctx: AppContext,
  who: Principal,
  id: string,
  a: { note?: string | null | undefined; confirmation?: ConfirmationPath | undefined } = {},
): Promise<MailboxAction> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'approving mailbox actions');
  const confirmation = a.confirmation ?? (who.id.startsWith('cli:') ? 'cli' : 'reviewer_session');
  if (canDraftAndDecide(who.roles) && confirmation !== 'elicitation_form') {
    throw new MailgateError(
      'CONFIRMATION_REQUIRED',
      `this session can draft as well as approve, so a person must confirm approving ${id}; ` +
        `${id} stays pending. To approve it, a person runs: mailgate approve ${id}`,
      { field: 'message_id' },
    );
  }
  const action = await getActionOrThrow(ctx, who, id);
  await checkFourEyes(ctx, who, action);
  await ctx.store.decideAction(id, { action: 'approve', actor: who.id, note: a.note ?? null, confirmation }, ctx.clock());
  await ctx.worker.tick();
  return (await ctx.store.getAction(id))!;
}

async function rejectAction(ctx: AppContext, who: Principal, id: string, reason: string): Promise<MailboxAction> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'rejecting mailbox actions');
  await getActionOrThrow(ctx, who, id);
  return ctx.store.decideAction(id, { action: 'reject', actor: who.id, reason }, ctx.clock());
}

async function cancelAction(ctx: AppContext, who: Principal, id: string): Promise<MailboxAction> {
  await requireRole(ctx, who, ['agent', 'operator'], 'cancelling a held action');
  const a = await getActionOrThrow(ctx, who, id);
  if (!who.roles.includes('operator') && a.created_by !== who.id) {
    throw new MailgateError(
      'FORBIDDEN',
      `${id} was requested by ${a.created_by}, not by this session (${who.id}); only its author or an operator can cancel it`,
      { field: 'message_id' },
    );
  }
  return ctx.store.decideAction(id, { action: 'cancel', actor: who.id }, ctx.clock());
}

async function actionHistory(ctx: AppContext, who: Principal, id: string): Promise<{ action: MailboxAction; events: AuditEvent[] }> {
  const action = await getActionOrThrow(ctx, who, id);
  return { action, events: await ctx.store.audit({ message_id: id, limit: 500 }) };
}

/** Anything a reviewer decides on: an outbound message (msg_) or a held mailbox action (act_). */
export type ReviewItem = OutboundMessage | MailboxAction;

function noEdits(id: string, a: Approval): void {
  if (a.edits && Object.values(a.edits).some((v) => v !== undefined)) {
    throw invalid('edits', `${id} is a held mailbox action, not an email: it has no content to edit; approve or reject it as it is`);
  }
}

/** Approve through MCP: a held action directly in a session that cannot draft; else the person runs the CLI. */
export async function approveItemInSession(call: ApprovalCall, id: string, a: Approval): Promise<ReviewItem> {
  if (!isActionId(id)) return approveFromSession(call, id, a);
  noEdits(id, a);
  if (canDraftAndDecide(call.principal.roles)) {
    await getActionOrThrow(call.ctx, call.principal, id);
    throw new MailgateError(
      'CONFIRMATION_REQUIRED',
      `this session can draft as well as approve, so a person must confirm approving ${id}. ` +
        `${id} stays pending. To approve it, the person runs: ${call.confirm.approveCommand(id)}`,
      { field: 'message_id' },
    );
  }
  return approveAction(call.ctx, call.principal, id, { note: a.note, confirmation: 'reviewer_session' });
}

/** Approve at the terminal or on the dashboard (the person is there). */
export async function approveItem(ctx: AppContext, who: Principal, id: string, a: Approval = {}): Promise<ReviewItem> {
  if (!isActionId(id)) return approveMessage(ctx, who, id, a);
  noEdits(id, a);
  return approveAction(ctx, who, id, { note: a.note, confirmation: a.confirmation });
}

export const rejectItem = (ctx: AppContext, who: Principal, id: string, reason: string): Promise<ReviewItem> =>
  isActionId(id) ? rejectAction(ctx, who, id, reason) : rejectMessage(ctx, who, id, reason);

export const cancelItem = (ctx: AppContext, who: Principal, id: string): Promise<ReviewItem> =>
  isActionId(id) ? cancelAction(ctx, who, id) : cancelMessage(ctx, who, id);

export async function itemHistory(ctx: AppContext, who: Principal, id: string): Promise<{ item: ReviewItem; events: AuditEvent[] }> {
  if (!isActionId(id)) {
    const { message, events } = await messageHistory(ctx, who, id);
    return { item: message, events };
  }
  const { action, events } = await actionHistory(ctx, who, id);
  return { item: action, events };
}

/** The email an action is about, for showing beside it (undefined once the cache dropped it, or out of scope). */
export async function actionEmail(ctx: AppContext, who: Principal, a: MailboxAction): Promise<InboundEmail | undefined> {
  const email = await ctx.store.getEmail(a.email_id);
  return email && inScope(who, email.mailbox) ? email : undefined;
}
