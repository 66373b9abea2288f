/**
 * One-time links and the audit of confirmation requests. An approval link approves exactly the content hash
 * it was made for, once, before it expires; using it, checking the hash and approving are one transaction. A
 * change link (a loosening of a mailbox asked for by a session that can draft) applies exactly the change it
 * was made for, once, and only to the mailbox state it was asked against.
 */
import { MailgateError } from '../errors.js';
import { mailboxStateHash } from '../gate/loosening.js';
import { appendAudit } from './audit.js';
import { type Db, stmt } from './db.js';
import * as mailboxes from './mailboxes.js';
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
    stmt(
      db,
      `INSERT INTO approval_links (link_id, secret_hash, message_id, content_hash, requested_by, created_at, expires_at)
              VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(req.link.link_id, req.link.secret_hash, req.message_id, req.content_hash, req.actor, now, req.link.expires_at);
  }
  appendAudit(
    db,
    {
      actor: req.actor,
      action: 'message.confirmation_requested',
      mailbox: m.mailbox,
      message_id: m.message_id,
      detail: {
        path: req.path,
        content_hash: req.content_hash,
        ...(req.link ? { link_id: req.link.link_id, expires_at: req.link.expires_at } : {}),
      },
    },
    now,
  );
}

export function findLinkByHash(db: Db, secretHash: string): (ApprovalLink & { secret_hash: string }) | undefined {
  return stmt(db, `SELECT ${COLUMNS}, secret_hash FROM approval_links WHERE secret_hash = ?`).get(secretHash) as
    | (ApprovalLink & { secret_hash: string })
    | undefined;
}

/**
 * The exact change a change link applies, stored with it so nothing in the request that uses the link can
 * alter it: an update's patch and reason, or a new mailbox.
 */
export type MailboxChange = { op: 'update'; patch: Record<string, unknown>; reason: string } | { op: 'create'; mailbox: Record<string, unknown> };

export interface ChangeLink {
  link_id: string;
  mailbox: string;
  change: MailboxChange;
  /** What loosens, as the person is shown it ("mode gated_send -> autonomous"). */
  loosens: string[];
  /** mailboxStateHash of the mailbox (or of its absence) when the change was asked for. */
  state_hash: string;
  requested_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface ChangeConfirmationRequest {
  mailbox: string;
  actor: string;
  path: 'elicitation_url' | 'elicitation_form';
  change: MailboxChange;
  loosens: string[];
  state_hash: string;
  link?: { link_id: string; secret_hash: string; expires_at: number };
}

const CHANGE_COLUMNS = 'link_id, mailbox, change, loosens, state_hash, requested_by, created_at, expires_at, used_at';
type ChangeRow = Omit<ChangeLink, 'change' | 'loosens'> & { change: string; loosens: string; secret_hash: string };

/** Appends mailbox.confirmation_requested and, for a link, stores it. */
export function recordChangeRequest(db: Db, req: ChangeConfirmationRequest, now: number): void {
  if (req.link) {
    stmt(
      db,
      `INSERT INTO change_links (link_id, secret_hash, mailbox, change, loosens, state_hash, requested_by, created_at, expires_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      req.link.link_id,
      req.link.secret_hash,
      req.mailbox,
      JSON.stringify(req.change),
      JSON.stringify(req.loosens),
      req.state_hash,
      req.actor,
      now,
      req.link.expires_at,
    );
  }
  appendAudit(
    db,
    {
      actor: req.actor,
      action: 'mailbox.confirmation_requested',
      mailbox: req.mailbox,
      detail: {
        path: req.path,
        op: req.change.op,
        loosens: req.loosens,
        state_hash: req.state_hash,
        ...(req.link ? { link_id: req.link.link_id, expires_at: req.link.expires_at } : {}),
      },
    },
    now,
  );
}

export function findChangeLinkByHash(db: Db, secretHash: string): (ChangeLink & { secret_hash: string }) | undefined {
  const row = stmt(db, `SELECT ${CHANGE_COLUMNS}, secret_hash FROM change_links WHERE secret_hash = ?`).get(secretHash) as ChangeRow | undefined;
  return row && { ...row, change: JSON.parse(row.change) as MailboxChange, loosens: JSON.parse(row.loosens) as string[] };
}

/** Why a change link cannot apply now, or null if it can. Read-only: the page's GET uses it too. */
export function changeLinkProblem(db: Db, link: ChangeLink, now: number): string | null {
  if (link.used_at !== null) return 'this confirmation link was already used; links work once';
  if (link.expires_at <= now) return 'this confirmation link has expired; ask for the change again';
  if (mailboxStateHash(mailboxes.getMailboxRow(db, link.mailbox)) !== link.state_hash) {
    return `${link.mailbox} changed after this link was made, so the link cannot apply its change; ask for the change again`;
  }
  return null;
}

/**
 * Marks a link used; false if it already was. Also how a link is withdrawn without approving (the person
 * declined in the client), so used_at means "can no longer approve" rather than "approved".
 */
export function spendLink(db: Db, linkId: string, now: number): boolean {
  return (
    stmt(db, 'UPDATE approval_links SET used_at = ? WHERE link_id = ? AND used_at IS NULL').run(now, linkId).changes === 1 ||
    stmt(db, 'UPDATE change_links SET used_at = ? WHERE link_id = ? AND used_at IS NULL').run(now, linkId).changes === 1
  );
}

/** Why a link cannot approve now, or null if it can. Read-only: the page's GET uses it too. */
export function linkProblem(db: Db, link: ApprovalLink | undefined, now: number): string | null {
  if (!link) return 'this approval link is unknown';
  if (link.used_at !== null) return 'this approval link was already used; links work once';
  if (link.expires_at <= now) return 'this approval link has expired; ask for the approval again';
  const m = messages.getMessageRow(db, link.message_id);
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
export function approveWithLinkInTx(db: Db, link: ApprovalLink, note: string | null, now: number): Result {
  const problem = linkProblem(db, link, now);
  const spent = spendLink(db, link.link_id, now);
  if (problem || !spent) return { ok: false, error: new MailgateError('LINK_INVALID', problem ?? 'this approval link was already used; links work once') };
  return decideInTx(db, link.message_id, { action: 'approve', actor: link.requested_by, note, confirmation: 'elicitation_url' }, now);
}
