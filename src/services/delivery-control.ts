/**
 * An operator's hands on delivery: resume a mailbox whose deliveries paused for a configuration problem, and
 * resolve a message whose outcome mailgate cannot know (the connection dropped after the final dot).
 */
import { invalid } from '../errors.js';
import type { OutboundMessage } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { getMailboxOrThrow, getMessageOrThrow } from './scope.js';

/** Lifts a delivery pause (audited mailbox.resumed); queued mail goes out at the next pass. */
export async function resumeDeliveries(ctx: AppContext, who: Principal, address: string, reason: string): Promise<{ resumed: boolean }> {
  await requireRole(ctx, who, ['operator'], 'resuming deliveries');
  const mb = await getMailboxOrThrow(ctx, who, address);
  const resumed = await ctx.store.resumeDeliveries(mb.address, who.id, reason, ctx.clock());
  if (resumed) void ctx.worker.tick();
  return { resumed };
}

/**
 * A person's answer to outcome_unknown after checking the recipient's side or the SMTP server's logs for the
 * message's Message-ID: delivered makes it sent; not delivered makes it failed, and it goes again only as a
 * fresh draft with its own approval.
 */
export async function resolveMessage(ctx: AppContext, who: Principal, id: string, r: { delivered: boolean; reason: string }): Promise<OutboundMessage> {
  await requireRole(ctx, who, ['operator', 'reviewer'], 'resolving an unknown delivery outcome');
  if (!r.reason.trim()) throw invalid('--reason', 'say how you know, e.g. --reason "found in the recipient\'s inbox" or "not in the relay\'s log"');
  const m = await getMessageOrThrow(ctx, who, id);
  return ctx.store.resolveOutcome(m.message_id, { delivered: r.delivered }, who.id, r.reason.trim(), ctx.clock());
}
