/**
 * Mailbox scope: which mailboxes a principal may act on. Every service that takes a mailbox address, an outbound
 * message id or an inbound email id resolves it here, so a principal bound to support@ reaches ceo@ through no
 * tool, page or command. Something of another mailbox answers exactly as something unknown would (the same code
 * and text, listing only the principal's own mailboxes), so scope is no oracle for what exists; the refusal
 * itself is audited as authz.denied, where the owning mailbox's reviewers can see it.
 */
import { MailgateError, unknownMailboxError } from '../errors.js';
import type { InboundEmail, Mailbox, MailboxAction, OutboundMessage } from '../store/store.js';
import { canonicalAddress } from '../values.js';
import type { AppContext, Principal } from './context.js';

export function inScope(who: Principal, address: string): boolean {
  return who.mailboxes === 'all' || who.mailboxes.includes(address);
}

/** For store queries: the addresses a listing is limited to, or undefined for every mailbox. */
export function scopeFilter(who: Principal): readonly string[] | undefined {
  return who.mailboxes === 'all' ? undefined : who.mailboxes;
}

/** Audits a refusal for scope: the target names what was asked for; `mailbox` is its owner when it exists. */
export async function recordScopeDenial(ctx: AppContext, who: Principal, target: string, mailbox: string | null): Promise<void> {
  await ctx.store.recordDenial(
    { actor: who.id, via: who.via ?? null, reason: 'outside the mailboxes this principal is bound to', target, mailbox },
    ctx.clock(),
  );
}

export async function visibleMailboxes(ctx: AppContext, who: Principal): Promise<Mailbox[]> {
  return (await ctx.store.listMailboxes()).filter((m) => inScope(who, m.address));
}

export async function getMailboxOrThrow(ctx: AppContext, who: Principal, address: string): Promise<Mailbox> {
  const mailbox = await ctx.store.getMailbox(canonicalAddress(address));
  if (mailbox && inScope(who, mailbox.address)) return mailbox;
  if (mailbox) await recordScopeDenial(ctx, who, mailbox.address, mailbox.address);
  throw unknownMailboxError(
    address,
    (await visibleMailboxes(ctx, who)).map((m) => m.address),
  );
}

export async function getMessageOrThrow(ctx: AppContext, who: Principal, id: string): Promise<OutboundMessage> {
  const m = await ctx.store.getMessage(id);
  if (m && inScope(who, m.mailbox)) return m;
  if (m) await recordScopeDenial(ctx, who, id, m.mailbox);
  throw new MailgateError('UNKNOWN_MESSAGE', `no outbound message '${id}'; send_email returns message ids and list_pending lists held ones`, {
    field: 'message_id',
  });
}

/** A held mailbox action (act_ id, from tag_email): of another mailbox it answers exactly as an unknown id. */
export async function getActionOrThrow(ctx: AppContext, who: Principal, id: string): Promise<MailboxAction> {
  const a = await ctx.store.getAction(id);
  if (a && inScope(who, a.mailbox)) return a;
  if (a) await recordScopeDenial(ctx, who, id, a.mailbox);
  throw new MailgateError('UNKNOWN_MESSAGE', `no held action '${id}'; tag_email returns action ids and list_pending lists held ones`, { field: 'message_id' });
}

export async function getEmailOrThrow(ctx: AppContext, who: Principal, id: string): Promise<InboundEmail> {
  const email = await ctx.store.getEmail(id);
  if (email && inScope(who, email.mailbox)) return email;
  if (email) await recordScopeDenial(ctx, who, id, email.mailbox);
  throw new MailgateError('UNKNOWN_EMAIL', `no inbound email '${id}'; check_inbox or search_email lists email ids`, { field: 'email_id' });
}

/**
 * The inbound email a message answers, for showing beside it: undefined when the message answers none, the
 * email is no longer stored (the inbox cache may have dropped it), or it is outside the principal's mailboxes.
 */
export async function repliedEmail(ctx: AppContext, who: Principal, m: OutboundMessage): Promise<InboundEmail | undefined> {
  if (!m.reply_to_email_id) return undefined;
  const email = await ctx.store.getEmail(m.reply_to_email_id);
  return email && inScope(who, email.mailbox) ? email : undefined;
}

/** Audits a call to a tool the session does not list (the SDK refuses it before any tool code runs). */
export async function recordUnlistedTool(ctx: AppContext, who: Principal, tool: string): Promise<void> {
  await ctx.store.recordDenial(
    {
      actor: who.id,
      via: tool,
      reason: `role: '${tool}' is not a tool of this session (roles ${who.roles.join(', ')})`,
      roles: who.roles,
      target: tool,
    },
    ctx.clock(),
  );
}

/** Mailbox administration that is not about one mailbox (creating one, tokens) needs a principal of every mailbox. */
export async function requireAllMailboxes(ctx: AppContext, who: Principal, what: string): Promise<void> {
  if (who.mailboxes === 'all') return;
  await ctx.store.recordDenial({ actor: who.id, via: who.via ?? null, reason: `scope: ${what}`, target: null }, ctx.clock());
  throw new MailgateError(
    'FORBIDDEN',
    `${what} needs a principal of every mailbox; this one is bound to ${who.mailboxes.join(', ')}. An operator with --all-mailboxes, or the mailgate CLI, can do it.`,
  );
}
