/**
 * Using a one-time approval link (the page in src/http/approval-link.ts calls these). The link stands in for
 * the person: only the MCP client's user was shown it, outside the model's view, so a POST with it approves
 * in the name of the session that asked, recorded as confirmed by `elicitation_url`.
 */
import { tokenNameOf } from '../auth/principal.js';
import { hashSecret, sameDigest } from '../auth/secrets.js';
import { MailgateError } from '../errors.js';
import type { ApprovalLink, OutboundMessage } from '../store/store.js';
import type { AppContext } from './context.js';
import { checkFourEyes } from './four-eyes.js';
import { getMessageOrThrow } from './review.js';

/** Link secrets are 40 letters and digits; anything else is not worth a database read. */
const SECRET_RE = /^[A-Za-z0-9]{40}$/;

export async function findLinkBySecret(ctx: AppContext, secret: string): Promise<ApprovalLink | undefined> {
  if (!SECRET_RE.test(secret)) return undefined;
  const hash = hashSecret(secret);
  const link = await ctx.store.findApprovalLink(hash);
  return link && sameDigest(link.secret_hash, hash) ? link : undefined;
}

/** What the page shows: the message as it is now, and why the link cannot approve it (null if it can). */
export async function viewLink(ctx: AppContext, link: ApprovalLink): Promise<{ message: OutboundMessage | undefined; problem: string | null }> {
  return { message: await ctx.store.getMessage(link.message_id), problem: await ctx.store.approvalLinkProblem(link, ctx.clock()) };
}

export async function approveByLink(ctx: AppContext, link: ApprovalLink, note: string | null): Promise<OutboundMessage> {
  const m = await getMessageOrThrow(ctx, link.message_id);
  await checkFourEyes(ctx, { id: link.requested_by, roles: [] }, m);
  const token = tokenNameOf(link.requested_by);
  if (token !== undefined) {
    const t = (await ctx.store.listTokens()).find((x) => x.name === token);
    if (!t || t.revoked_at !== null) throw new MailgateError('UNAUTHENTICATED', `the token '${token}' that asked for this approval was revoked; the link no longer approves`);
  }
  const approved = await ctx.store.approveWithLink(link, note, ctx.clock());
  await ctx.worker.tick();
  return (await ctx.store.getMessage(approved.message_id)) ?? approved;
}
