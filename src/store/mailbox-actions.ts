/**
 * The held mailbox action aggregate (tag_email: add or remove flags, move): its rows and the guarded
 * transitions of its lifecycle (src/gate/action-lifecycle.ts). What a submit, a decision and an outcome do
 * is the domain's (src/domain/action-rules.ts).
 */
import { ACTION_CLAIMABLE, actionFromStates } from '../gate/action-lifecycle.js';
import type { ActionStatus } from '../values.js';
import { inScope, scopeParam } from './db.js';
import { statusList, type TagAction } from './messages.js';
import type { SqlTx } from './sql/types.js';

export interface MailboxAction {
  action_id: string;
  mailbox: string;
  email_id: string;
  action: TagAction;
  status: ActionStatus;
  gate_code: string;
  gate_reason: string;
  gate_rule: string | null;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  decided_by: string | null;
  decided_at: number | null;
  decision_reason: string | null;
  lease_owner: string | null;
  lease_until: number | null;
  next_attempt_at: number | null;
  attempts: number;
  last_error: string | null;
  applied_at: number | null;
  /** What the server took (the flags set, the folder moved to), once applied. */
  result: Record<string, unknown> | null;
  updated_at: number;
}

export interface ActionRequest {
  action_id: string;
  mailbox: string;
  action: TagAction;
  actor: string;
}

/** The worker's outcome of applying an action: applied, failed for good, or a retry later. */
export type ActionOutcome =
  | { kind: 'applied'; result: Record<string, unknown> }
  | { kind: 'failed'; error: string }
  | { kind: 'retry'; error: string; next_attempt_at: number };

type Row = Record<string, unknown>;

function fromRow(r: Row): MailboxAction {
  return {
    ...(r as unknown as MailboxAction),
    action: JSON.parse(String(r.action)) as TagAction,
    result: r.result == null ? null : (JSON.parse(String(r.result)) as Record<string, unknown>),
  };
}

export async function getActionRow(q: SqlTx, id: string): Promise<MailboxAction | undefined> {
  const r = await q.get<Row>('SELECT * FROM mailbox_actions WHERE action_id = ?', [id]);
  return r && fromRow(r);
}

export async function insertActionRow(q: SqlTx, a: MailboxAction): Promise<void> {
  await q.run(
    `INSERT INTO mailbox_actions (action_id, mailbox, email_id, action, status, gate_code, gate_reason, gate_rule, created_by,
      created_at, expires_at, next_attempt_at, updated_at)
    VALUES (@action_id, @mailbox, @email_id, @action, @status, @gate_code, @gate_reason, @gate_rule, @created_by,
      @created_at, @expires_at, @next_attempt_at, @updated_at)`,
    { ...a, action: JSON.stringify(a.action), result: undefined },
  );
}

/**
 * Moves an action to `to` from every state ACTION_TRANSITIONS allows, with the extra columns set, only if it is
 * still in one of them (compare-and-set); `where` adds conditions (on @now, or on `params`). False when
 * another process got there first.
 */
export async function transition(q: SqlTx, id: string, to: ActionStatus, set: Row, now: number, where = '', params: Row = {}): Promise<boolean> {
  const cols = Object.keys(set)
    .map((k) => `, ${k} = @${k}`)
    .join('');
  const sql = `UPDATE mailbox_actions SET status = @to, updated_at = @now${cols} WHERE action_id = @id AND status IN (${statusList(actionFromStates(to))}) ${where}`;
  return (await q.run(sql, { ...params, ...set, id, to, now })).changes === 1;
}

export async function dueActionRows(q: SqlTx, now: number, limit: number): Promise<MailboxAction[]> {
  return (await q.all<Row>("SELECT * FROM mailbox_actions WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?", [now, limit])).map(
    fromRow,
  );
}

/** Claims due approved actions of these mailboxes with a lease; a lapsed lease is simply claimed again (re-applying is harmless). */
export async function claimActions(
  q: SqlTx,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
  mailboxList: readonly string[],
): Promise<MailboxAction[]> {
  if (mailboxList.length === 0) return [];
  const guard = `status IN (${statusList(ACTION_CLAIMABLE)}) AND (lease_until IS NULL OR lease_until < ?)`;
  const rows = (
    await q.all<Row>(
      `SELECT * FROM mailbox_actions WHERE ${guard} AND next_attempt_at <= ?
      AND mailbox IN ${q.dialect.jsonList('?')} ORDER BY created_at, action_id LIMIT ? ${q.dialect.skipLocked}`,
      [now, now, JSON.stringify(mailboxList), limit],
    )
  ).map(fromRow);
  const claimed: MailboxAction[] = [];
  for (const a of rows) {
    // Compare-and-set: the lease is taken only if the action is still claimable and unleased.
    const r = await q.run(`UPDATE mailbox_actions SET lease_owner = ?, lease_until = ?, updated_at = ? WHERE action_id = ? AND ${guard}`, [
      owner,
      now + leaseMs,
      now,
      a.action_id,
      now,
    ]);
    if (r.changes === 1) claimed.push({ ...a, lease_owner: owner, lease_until: now + leaseMs });
  }
  return claimed;
}

/** Gives the lease back for a later attempt (the action stays claimable); false when `owner` lost the lease. */
export async function retryActionRow(q: SqlTx, id: string, owner: string, error: string, nextAttemptAt: number, now: number): Promise<boolean> {
  const r = await q.run(
    `UPDATE mailbox_actions SET lease_owner = NULL, lease_until = NULL, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
      WHERE action_id = ? AND lease_owner = ? AND status IN (${statusList(ACTION_CLAIMABLE)})`,
    [error, nextAttemptAt, now, id, owner],
  );
  return r.changes === 1;
}

/** Held actions that can still be decided, oldest first (of one mailbox, or of the listed ones). */
export async function listPendingActionRows(
  q: SqlTx,
  query: { mailbox?: string | undefined; mailboxes?: readonly string[] | undefined; limit: number; now: number },
): Promise<MailboxAction[]> {
  return (
    await q.all<Row>(
      `SELECT * FROM mailbox_actions WHERE status = 'pending' AND expires_at > @now AND (@mailbox IS NULL OR mailbox = @mailbox)
      AND (@mailboxes IS NULL OR ${inScope(q.dialect)}) ORDER BY created_at, action_id LIMIT @limit`,
      { now: query.now, mailbox: query.mailbox ?? null, mailboxes: scopeParam(query.mailboxes), limit: query.limit },
    )
  ).map(fromRow);
}

export async function countPendingActions(q: SqlTx, mailbox: string): Promise<number> {
  return (await q.value<number>("SELECT count(*) FROM mailbox_actions WHERE status = 'pending' AND mailbox = ?", [mailbox])) ?? 0;
}
