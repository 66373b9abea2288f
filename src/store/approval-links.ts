/**
 * One-time approval links and the audit of confirmation requests. A link approves exactly the content hash
 * it was made for, once, before it expires; using it, checking the hash and approving are one transaction.
 */
import { MailgateError } from '../errors.js';
import { appendAudit } from './audit.js';
import { type Db, stmt } from './db.js';
import { decideInTx } from './message-ops.js';
import * as messages from './messages.js';

export interface ApprovalLink {
  link_id: string;
  message_id: string;
  content_hash: string;
  requested_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ConfirmationRequest {
  message_id: string;
  /** The session asking; the approval will be recorded in its name once the person confirms. */
  actor: string;
  path: 'elicitation_url' | 'elicitation_form';
  content_hash: string;
  /** URL mode only: the link to store (its secret as a hash). */
  link?: { link_id: string; secret_hash: string; expires_at: number };
}

const COLUMNS = 'link_id, message_id, content_hash, requested_by, created_at, expires_at, used_at';

/** Appends message.confirmation_requested and, for a link, stores it. */
export function recordConfirmationRequest(db: Db, req: ConfirmationRequest, now: number): void {
  const m = messages.getMessageRow(db, req.message_id);
  if (!m) throw new MailgateError('UNKNOWN_MESSAGE', `no outbound message '${req.message_id}'`, { field: 'message_id' });
  if (req.link) {
    stmt(db, `INSERT INTO approval_links (link_id, secret_hash, message_id, content_hash, requested_by, created_at, expires_at)
              VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(req.link.link_id, req.link.secret_hash, req.message_id, req.content_hash, req.actor, now, req.link.expires_at);
  }
  appendAudit(db, { actor: req.actor, action: 'message.confirmation_requested', mailbox: m.mailbox, message_id: m.message_id, detail: {
    path: req.path, content_hash: req.content_hash,
    ...(req.link ? { link_id: req.link.link_id, expires_at: req.link.expires_at } : {}),
  } }, now);
}

export function findLinkByHash(db: Db, secretHash: string): (ApprovalLink & { secret_hash: string }) | undefined {
  return stmt(db, `SELECT ${COLUMNS}, secret_hash FROM approval_links WHERE secret_hash = ?`).get(secretHash) as
    (ApprovalLink & { secret_hash: string }) | undefined;
}

/**
 * Marks a link used; false if it already was. Also how a link is withdrawn without approving (the person
 * declined in the client), so used_at means "can no longer approve" rather than "approved".
 */
export function spendLink(db: Db, linkId: string, now: number): boolean {
  return stmt(db, 'UPDATE approval_links SET used_at = ? WHERE link_id = ? AND used_at IS NULL').run(now, linkId).changes === 1;
}

/** Why a link cannot approve now, or null if it can. Read-only: the page's GET uses it too. */
export function linkProblem(db: Db, link: ApprovalLink | undefined, now: number): string | null {
  if (!link) return 'this approval link is unknown';
  if (link.used_at !== null) return 'this approval link was already used; links work once';
  if (link.expires_at <= now) return 'this approval link has expired; ask for the approval again';
  const m = messages.getMessageRow(db, link.message_id);
  if (!m || m.content_hash !== link.content_hash) return 'the message changed after this link was made, so the link cannot approve it; ask for the approval again';
  if (m.status !== 'pending') return `the message is ${m.status}, no longer waiting for approval`;
  return null;
}

type Result = { ok: true; value: messages.OutboundMessage } | { ok: false; error: MailgateError };

/**
 * Uses a link: spends it and approves its message in the name of the session that asked, recording the
 * confirmation path. The link is spent whatever happens, so a refused attempt cannot be retried with it.
 */
export function approveWithLinkInTx(db: Db, link: ApprovalLink, note: string | null, now: number): Result {
  const problem = linkProblem(db, link, now);
  const spent = spendLink(db, link.link_id, now);
  if (problem || !spent) return { ok: false, error: new MailgateError('LINK_INVALID', problem ?? 'this approval link was already used; links work once') };
  return decideInTx(db, link.message_id, { action: 'approve', actor: link.requested_by, note, confirmation: 'elicitation_url' }, now);
}
