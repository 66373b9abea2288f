/**
 * mail_wait: a bounded wait for a message to leave the approval queue, be delivered, and get a reply that
 * threads to it (In-Reply-To or References naming its Message-ID, RFC 5322 §3.6.4). Bounded because MCP
 * clients time calls out after about a minute; the caller simply calls again with the same message_id.
 */
import type { EventEmitter } from 'node:events';
import { isActionFinal } from '../gate/action-lifecycle.js';
import { isFinal } from '../gate/lifecycle.js';
import type { InboundEmail, MailboxAction, OutboundMessage } from '../store/store.js';
import { isActionId } from '../values.js';
import type { AppContext, Principal } from './context.js';
import { withBody } from './inbox.js';
import { getActionOrThrow, getMessageOrThrow } from './scope.js';

export const MAX_WAIT_SECONDS = 50;

export interface WaitResult {
  /** The message waited on, or (for an act_ id) the held mailbox action. */
  message: OutboundMessage | MailboxAction;
  /** The reply, its body fetched (a synced reply may have had only its envelope cached). */
  reply: InboundEmail | undefined;
  timed_out: boolean;
  waited_ms: number;
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  pollMs?: number;
  onProgress?: ((elapsedMs: number, status: string) => Promise<void> | void) | undefined;
}

export async function waitForMessage(ctx: AppContext, who: Principal, id: string, opts: WaitOptions): Promise<WaitResult> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const pollMs = opts.pollMs ?? 250;
  let lastProgress = started;
  for (;;) {
    const message = isActionId(id) ? await getActionOrThrow(ctx, who, id) : await getMessageOrThrow(ctx, who, id);
    const reply = 'kind' in message && message.status === 'sent' ? await ctx.store.findReply(message.mailbox, message.message_id_header) : undefined;
    // A sent message waits on for its reply; a mailbox action has nothing more to wait for once final.
    const done = reply !== undefined || ('kind' in message ? isFinal(message.status) && message.status !== 'sent' : isActionFinal(message.status));
    const now = Date.now();
    if (done || now >= deadline || opts.signal?.aborted) {
      // The reply is returned with its text, so its body is fetched now if only its envelope was synced; the
      // text reaches the agent, so it is audited as a read, as read_email's is.
      const read = reply && (await withBody(ctx, who, reply));
      if (read) await ctx.store.recordRead(read, who.id, ctx.clock());
      return { message, reply: read, timed_out: !done && now >= deadline, waited_ms: Date.now() - started };
    }
    if (opts.onProgress && now - lastProgress >= 1000) {
      lastProgress = now;
      await opts.onProgress(now - started, message.status);
    }
    await sleepUntilChange(Math.min(pollMs, deadline - now), opts.signal, ctx.changes);
  }
}

/** Sleeps until the poll interval ends, the call is cancelled, or this process reports a change. */
export function sleepUntilChange(ms: number, signal: AbortSignal | undefined, changes: EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      changes.off('change', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
    changes.on('change', done);
  });
}
