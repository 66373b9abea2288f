/**
 * Using a one-time approval link (the page in src/http/approval-link.ts calls these). The link stands in for
 * the person: only the MCP client's user was shown it, outside the model's view, so a POST with it approves
 * in the name of the session that asked, recorded as confirmed by `elicitation_url`. A change link does the
 * same for a change that loosens a mailbox (src/services/confirm-change.ts).
 */
import { tokenNameOf } from '../auth/principal.js';
import { hashSecret, sameDigest } from '../auth/secrets.js';
import { MailgateError } from '../errors.js';
import type { ApprovalLink, ChangeLink, MailboxUpdateResult, OutboundMessage } from '../store/store.js';
import { applyMailboxChange } from './confirm-change.js';
import type { AppContext } from './context.js';
import { checkFourEyes } from './four-eyes.js';
import { getMessageOrThrow } from './scope.js';

/** Link secrets are 40 letters and digits; anything else is not worth a database read. */
const SECRET_RE = /^[A-Za-z0-9]{40}$/;

/** A link of either kind: approving a held message, or applying a change that loosens a mailbox. */
export type FoundLink = { kind: 'approval'; link: ApprovalLink } | { kind: 'change'; link: ChangeLink };

export async function findLinkBySecret(ctx: AppContext, secret: string): Promise<FoundLink | undefined> {
  if (!SECRET_RE.test(secret)) return undefined;
  const hash = hashSecret(secret);
  const link = await ctx.store.findApprovalLink(hash);
  if (link && sameDigest(link.secret_hash, hash)) return { kind: 'approval', link };
  const change = await ctx.store.findChangeLink(hash);
  return change && sameDigest(change.secret_hash, hash) ? { kind: 'change', link: change } : undefined;
}

/** Why a change link cannot apply now, or null if it can (the page's GET). */
export async function changeLinkProblem(ctx: AppContext, link: ChangeLink): Promise<string | null> {
  return ctx.store.changeLinkProblem(link, ctx.clock());
}

/**
 * Applies the change a link was made for, in the name of the session that asked, recorded as confirmed by
 * `elicitation_url`. The link is spent whatever happens; the store refuses if the mailbox has left the state
 * the person was shown, even in the moment between spending and applying.
 */
export async function applyByLink(ctx: AppContext, link: ChangeLink): Promise<MailboxUpdateResult> {
  const problem = await ctx.store.changeLinkProblem(link, ctx.clock());
  const spent = await ctx.store.spendApprovalLink(link.link_id, ctx.clock());
  if (problem || !spent) throw new MailgateError('LINK_INVALID', problem ?? 'this confirmation link was already used; links work once');
  await assertAskerLive(ctx, link.requested_by, 'change');
  return applyMailboxChange(ctx, link.requested_by, link.mailbox, link.change, {
    stateHash: link.state_hash,
    confirmation: 'elicitation_url',
    loosens: link.loosens,
  });
}

/** A link asked for by a token's session stops working when the token is revoked. */
async function assertAskerLive(ctx: AppContext, requestedBy: string, what: string): Promise<void> {
  const token = tokenNameOf(requestedBy);
  if (token === undefined) return;
  const t = (await ctx.store.listTokens()).find((x) => x.name === token);
  if (!t || t.revoked_at !== null)
    throw new MailgateError('UNAUTHENTICATED', `the token '${token}' that asked for this ${what} was revoked; the link no longer works`);
}

/** What the page shows: the message as it is now, and why the link cannot approve it (null if it can). */
export async function viewLink(ctx: AppContext, link: ApprovalLink): Promise<{ message: OutboundMessage | undefined; problem: string | null }> {
  return { message: await ctx.store.getMessage(link.message_id), problem: await ctx.store.approvalLinkProblem(link, ctx.clock()) };
}

export async function approveByLink(ctx: AppContext, link: ApprovalLink, note: string | null): Promise<OutboundMessage> {
  // The link is the credential: the session that asked was checked for the message's mailbox when it was made.
  const asker = { id: link.requested_by, roles: [], mailboxes: 'all' } as const;
  const m = await getMessageOrThrow(ctx, asker, link.message_id);
  await checkFourEyes(ctx, asker, m);
  const token = tokenNameOf(link.requested_by);
  if (token !== undefined) {
    const t = (await ctx.store.listTokens()).find((x) => x.name === token);
    if (!t || t.revoked_at !== null)
      throw new MailgateError('UNAUTHENTICATED', `the token '${token}' that asked for this approval was revoked; the link no longer approves`);
  }
  const approved = await ctx.store.approveWithLink(link, note, ctx.clock());
  await ctx.worker.tick();
  return (await ctx.store.getMessage(approved.message_id)) ?? approved;
}
