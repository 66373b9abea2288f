/**
 * What a one-time link may do (the links themselves are src/store/approval-links.ts): an approval link approves
 * exactly the content hash it was made for, once, before it expires; a change link applies its change only to
 * the mailbox state it was asked against.
 */
import { MailgateError } from '../errors.js';
import { mailboxStateHash } from '../gate/loosening.js';
import { type ApprovalLink, type ChangeLink, spendLink } from '../store/approval-links.js';
import * as mailboxes from '../store/mailboxes.js';
import * as messages from '../store/messages.js';
import type { SqlTx } from '../store/sql/types.js';
import { decideInTx } from './message-ops.js';

/** Why a change link cannot apply now, or null if it can. Read-only: the page's GET uses it too. */
export async function changeLinkProblem(q: SqlTx, link: ChangeLink, now: number): Promise<string | null> {
  if (link.used_at !== null) return 'this confirmation link was already used; links work once';
  if (link.expires_at <= now) return 'this confirmation link has expired; ask for the change again';
  if (mailboxStateHash(await mailboxes.getMailboxRow(q, link.mailbox)) !== link.state_hash) {
    return `${link.mailbox} changed after this link was made, so the link cannot apply its change; ask for the change again`;
  }
  return null;
}

/** Why a link cannot approve now, or null if it can. Read-only: the page's GET uses it too. */
export async function linkProblem(q: SqlTx, link: ApprovalLink | undefined, now: number): Promise<string | null> {
  if (!link) return 'this approval link is unknown';
  if (link.used_at !== null) return 'this approval link was already used; links work once';
  if (link.expires_at <= now) return 'this approval link has expired; ask for the approval again';
  const m = await messages.getMessageRow(q, link.message_id);
  if (!m || m.content_hash !== link.content_hash)
    return 'the message changed after this link was made, so the link cannot approve it; ask for the approval again';
  if (m.status !== 'pending') return `the message is ${m.status}, no longer waiting for approval`;
  return null;
}

type Result = { ok: true; value: messages.OutboundMessage } | { ok: false; error: MailgateError };

/**
 * Uses a link: spends it and approves its message in the name of the session that asked, recording the
 * confirmation path. The link is spent whatever happens, so a refused attempt cannot be retried with it.
 */
export async function approveWithLinkInTx(q: SqlTx, link: ApprovalLink, note: string | null, now: number): Promise<Result> {
  const problem = await linkProblem(q, link, now);
  const spent = await spendLink(q, link.link_id, now);
  if (problem || !spent) return { ok: false, error: new MailgateError('LINK_INVALID', problem ?? 'this approval link was already used; links work once') };
  return decideInTx(q, link.message_id, { action: 'approve', actor: link.requested_by, note, confirmation: 'elicitation_url' }, now);
}
