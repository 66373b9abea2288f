/**
 * One-time links and the audit of confirmation requests. An approval link approves exactly the content hash
 * it was made for, once, before it expires; using it, checking the hash and approving are one transaction. A
 * change link (a loosening of a mailbox asked for by a session that can draft) applies exactly the change it
 * was made for, once, and only to the mailbox state it was asked against. Those checks, and using a link, are
 * src/domain/approval-links.ts; here are the rows.
 */
import { MailgateError } from '../errors.js';
import { appendAudit } from './audit.js';
import * as messages from './messages.js';
import type { SqlTx } from './sql/types.js';

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
export async function recordConfirmationRequest(q: SqlTx, req: ConfirmationRequest, now: number): Promise<void> {
  const m = await messages.getMessageRow(q, req.message_id);
  if (!m) throw new MailgateError('UNKNOWN_MESSAGE', `no outbound message '${req.message_id}'`, { field: 'message_id' });
  if (req.link) {
    await q.run(
      `INSERT INTO approval_links (link_id, secret_hash, message_id, content_hash, requested_by, created_at, expires_at)
              VALUES (?, ?, ?, ?, ?, ?, ?)`,
      [req.link.link_id, req.link.secret_hash, req.message_id, req.content_hash, req.actor, now, req.link.expires_at],
    );
  }
  await appendAudit(
    q,
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

export function findLinkByHash(q: SqlTx, secretHash: string): Promise<(ApprovalLink & { secret_hash: string }) | undefined> {
  return q.get<ApprovalLink & { secret_hash: string }>(`SELECT ${COLUMNS}, secret_hash FROM approval_links WHERE secret_hash = ?`, [secretHash]);
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
export async function recordChangeRequest(q: SqlTx, req: ChangeConfirmationRequest, now: number): Promise<void> {
  if (req.link) {
    await q.run(
      `INSERT INTO change_links (link_id, secret_hash, mailbox, change, loosens, state_hash, requested_by, created_at, expires_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        req.link.link_id,
        req.link.secret_hash,
        req.mailbox,
        JSON.stringify(req.change),
        JSON.stringify(req.loosens),
        req.state_hash,
        req.actor,
        now,
        req.link.expires_at,
      ],
    );
  }
  await appendAudit(
    q,
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

export async function findChangeLinkByHash(q: SqlTx, secretHash: string): Promise<(ChangeLink & { secret_hash: string }) | undefined> {
  const row = await q.get<ChangeRow>(`SELECT ${CHANGE_COLUMNS}, secret_hash FROM change_links WHERE secret_hash = ?`, [secretHash]);
  return row && { ...row, change: JSON.parse(row.change) as MailboxChange, loosens: JSON.parse(row.loosens) as string[] };
}

/**
 * Marks a link used; false if it already was. Also how a link is withdrawn without approving (the person
 * declined in the client), so used_at means "can no longer approve" rather than "approved".
 */
export async function spendLink(q: SqlTx, linkId: string, now: number): Promise<boolean> {
  return (
    (await q.run('UPDATE approval_links SET used_at = ? WHERE link_id = ? AND used_at IS NULL', [now, linkId])).changes === 1 ||
    (await q.run('UPDATE change_links SET used_at = ? WHERE link_id = ? AND used_at IS NULL', [now, linkId])).changes === 1
  );
}
