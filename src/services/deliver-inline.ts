/**
 * A send the gate let through (autonomous, or an auto-approve rule) is delivered within the request, so the caller
 * hears `sent`; but only from its own mailbox, never a whole delivery pass over every mailbox: one agent's latency
 * must not depend on another mailbox's backlog or a stalled SMTP server. The rest is the worker's (woken here).
 */
import { CLAIMABLE } from '../gate/lifecycle.js';
import type { OutboundMessage } from '../store/store.js';
import type { AppContext } from './context.js';

/** Older mail of the same mailbox is claimed first (claims go oldest first); past this many, the worker takes over. */
const MAX_INLINE = 5;

/** Claims and delivers `messageId` (and at most a few older messages of its mailbox ahead of it); returns it as it is now. */
export async function deliverInline(ctx: AppContext, messageId: string): Promise<OutboundMessage | undefined> {
  const worker = ctx.worker;
  try {
    for (let i = 0; i < MAX_INLINE; i++) {
      const m = await ctx.store.getMessage(messageId);
      // Sent, failed, or being delivered by another worker: nothing left to do here.
      if (!m || !CLAIMABLE.includes(m.status)) return m;
      const mailbox = await ctx.store.getMailbox(m.mailbox);
      if (!mailbox || !ctx.transports.canServe(mailbox)) return m;
      // Only this mailbox: paused or held-back mailboxes and messages waiting for a retry are not claimed.
      const [claimed] = await ctx.store.claimForDelivery(worker.owner, ctx.clock(), worker.opts.leaseMs, 1, [m.mailbox]);
      if (!claimed) return m;
      await worker.deliver(claimed);
      if (claimed.message_id === messageId) break;
    }
    return await ctx.store.getMessage(messageId);
  } finally {
    // Whatever else is due (other mailboxes, retries) goes out in the background, not in this request.
    worker.wake();
  }
}
