/**
 * The held mailbox action aggregate (tag_email: add or remove flags, move): its rows and the guarded
 * transitions of its lifecycle (src/gate/action-lifecycle.ts). Audited with the message.* events (the
 * action id in message_id) so get_message's history, the audit trail and webhooks read it as they read mail;
 * `email.tagged` records an applied action.
 */
import { MailgateError } from '../errors.js';
import { ACTION_CLAIMABLE, actionFromStates } from '../gate/action-lifecycle.js';
import { resolvePolicy } from '../gate/policy/index.js';
import type { ActionStatus } from '../values.js';
import { appendAudit } from './audit.js';
import { type Db, IN_SCOPE, scopeParam, stmt } from './db.js';
import * as mailboxes from './mailboxes.js';
import type { TagAction } from './messages.js';
import type { DecideRequest, GateFn } from './store.js';

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

export function getActionRow(db: Db, id: string): MailboxAction | undefined {
  const r = stmt(db, 'SELECT * FROM mailbox_actions WHERE action_id = ?').get(id) as Row | undefined;
  return r && fromRow(r);
}

function transition(db: Db, id: string, to: ActionStatus, set: Row, now: number, where = ''): boolean {
  const cols = Object.keys(set)
    .map((k) => `, ${k} = @${k}`)
    .join('');
  const from = actionFromStates(to)
    .map((s) => `'${s}'`)
    .join(', ');
  return (
    stmt(db, `UPDATE mailbox_actions SET status = @to, updated_at = @now${cols} WHERE action_id = @id AND status IN (${from}) ${where}`).run({
      ...set,
      id,
      to,
      now,
    }).changes === 1
  );
}

const audit = (db: Db, a: MailboxAction, actor: string, action: Parameters<typeof appendAudit>[1]['action'], detail: Row, now: number) =>
  appendAudit(db, { actor, action, mailbox: a.mailbox, message_id: a.action_id, email_id: a.email_id, detail: { kind: 'mailbox_action', ...detail } }, now);

/** Records an action with the gate's decision, evaluated here with the facts of this transaction. */
export function submitActionInTx(db: Db, req: ActionRequest, gate: GateFn, now: number): MailboxAction {
  const mailbox = mailboxes.getMailboxRow(db, req.mailbox);
  if (!mailbox) throw mailboxes.unknownMailbox(db, req.mailbox);
  const decision = gate(mailbox, { knownContacts: new Set(), contactLists: new Map() }, resolvePolicy(undefined, mailbox.policy));
  const status: ActionStatus = decision.outcome === 'execute' ? 'approved' : decision.outcome === 'hold' ? 'pending' : 'blocked';
  const a: MailboxAction = {
    action_id: req.action_id,
    mailbox: mailbox.address,
    email_id: req.action.email_id,
    action: req.action,
    status,
    gate_code: decision.code,
    gate_reason: decision.reason,
    gate_rule: decision.outcome === 'execute' ? (decision.rule ?? null) : null,
    created_by: req.actor,
    created_at: now,
    expires_at: status === 'pending' ? now + mailbox.pending_ttl_seconds * 1000 : null,
    decided_by: null,
    decided_at: null,
    decision_reason: null,
    lease_owner: null,
    lease_until: null,
    next_attempt_at: status === 'approved' ? now : null,
    attempts: 0,
    last_error: null,
    applied_at: null,
    result: null,
    updated_at: now,
  };
  stmt(
    db,
    `INSERT INTO mailbox_actions (action_id, mailbox, email_id, action, status, gate_code, gate_reason, gate_rule, created_by,
      created_at, expires_at, next_attempt_at, updated_at)
    VALUES (@action_id, @mailbox, @email_id, @action, @status, @gate_code, @gate_reason, @gate_rule, @created_by,
      @created_at, @expires_at, @next_attempt_at, @updated_at)`,
  ).run({ ...a, action: JSON.stringify(a.action), result: undefined });
  audit(
    db,
    a,
    req.actor,
    status === 'blocked' ? 'message.blocked' : status === 'pending' ? 'message.held' : 'message.submitted',
    {
      action: a.action,
      mode: mailbox.oversight_mode,
      mode_source: mailbox.mode_source,
      gate: { outcome: decision.outcome, code: decision.code, reason: decision.reason, rule: a.gate_rule },
      ...(a.expires_at ? { expires_at: a.expires_at } : {}),
    },
    now,
  );
  return a;
}

type Result = { ok: true; value: MailboxAction } | { ok: false; error: MailgateError };

/** Approve, reject or cancel a held action: exactly one of them (or expiry) wins. Edits do not apply to actions. */
export function decideActionInTx(db: Db, id: string, req: DecideRequest, now: number): Result {
  const a = getActionRow(db, id);
  if (!a)
    return { ok: false, error: new MailgateError('UNKNOWN_MESSAGE', `no held action '${id}'; list_pending shows the held ones`, { field: 'message_id' }) };
  if (a.status === 'pending' && a.expires_at !== null && a.expires_at <= now) {
    expire(db, a, now);
    return { ok: false, error: notPending(id, 'expired', req.action) };
  }
  const to: ActionStatus = req.action === 'approve' ? 'approved' : req.action === 'reject' ? 'rejected' : 'cancelled';
  const reason = req.action === 'approve' ? (req.note ?? null) : req.action === 'reject' ? req.reason : (req.reason ?? null);
  const set: Row = { decided_at: now, decided_by: req.actor, decision_reason: reason, ...(to === 'approved' ? { next_attempt_at: now } : {}) };
  if (!transition(db, id, to, set, now, 'AND expires_at > @now'))
    return { ok: false, error: notPending(id, getActionRow(db, id)?.status ?? 'unknown', req.action) };
  audit(
    db,
    a,
    req.actor,
    to === 'approved' ? 'message.approved' : to === 'rejected' ? 'message.rejected' : 'message.cancelled',
    {
      reason,
      waited_ms: now - a.created_at,
      ...(req.action === 'approve' && req.confirmation ? { confirmation: req.confirmation } : {}),
    },
    now,
  );
  return { ok: true, value: getActionRow(db, id)! };
}

function expire(db: Db, a: MailboxAction, now: number): boolean {
  if (!transition(db, a.action_id, 'expired', { decided_at: now, decided_by: 'system:expiry' }, now)) return false;
  audit(db, a, 'system:expiry', 'message.expired', { expires_at: a.expires_at }, now);
  return true;
}

export function expireDueActions(db: Db, now: number, limit: number): MailboxAction[] {
  const due = (stmt(db, "SELECT * FROM mailbox_actions WHERE status = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?").all(now, limit) as Row[]).map(
    fromRow,
  );
  return due.filter((a) => expire(db, a, now)).map((a) => getActionRow(db, a.action_id)!);
}

/** Claims due approved actions of these mailboxes with a lease; a lapsed lease is simply claimed again (re-applying is harmless). */
export function claimActions(db: Db, owner: string, now: number, leaseMs: number, limit: number, mailboxList: readonly string[]): MailboxAction[] {
  if (mailboxList.length === 0) return [];
  const statuses = ACTION_CLAIMABLE.map((s) => `'${s}'`).join(', ');
  const rows = (
    stmt(
      db,
      `SELECT * FROM mailbox_actions WHERE status IN (${statuses}) AND next_attempt_at <= ?
      AND (lease_until IS NULL OR lease_until < ?) AND mailbox IN (SELECT value FROM json_each(?)) ORDER BY created_at, action_id LIMIT ?`,
    ).all(now, now, JSON.stringify(mailboxList), limit) as Row[]
  ).map(fromRow);
  const claim = stmt(db, 'UPDATE mailbox_actions SET lease_owner = ?, lease_until = ?, updated_at = ? WHERE action_id = ?');
  for (const a of rows) claim.run(owner, now + leaseMs, now, a.action_id);
  return rows.map((a) => ({ ...a, lease_owner: owner, lease_until: now + leaseMs }));
}

/** Records the outcome if `owner` still holds the lease; undefined when it was lost. */
export function recordActionOutcome(db: Db, id: string, owner: string, outcome: ActionOutcome, now: number): MailboxAction | undefined {
  const a = getActionRow(db, id);
  if (!a || a.lease_owner !== owner || a.status !== 'approved') return undefined;
  const release = { lease_owner: null, lease_until: null, attempts: a.attempts + 1 };
  if (outcome.kind === 'retry') {
    stmt(
      db,
      'UPDATE mailbox_actions SET lease_owner = NULL, lease_until = NULL, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ? WHERE action_id = ?',
    ).run(outcome.error, outcome.next_attempt_at, now, id);
    return getActionRow(db, id);
  }
  if (outcome.kind === 'applied') {
    transition(db, id, 'applied', { ...release, applied_at: now, result: JSON.stringify(outcome.result) }, now);
    audit(db, a, 'system:worker', 'email.tagged', { action: a.action, result: outcome.result }, now);
  } else {
    transition(db, id, 'failed', { ...release, last_error: outcome.error }, now);
    audit(db, a, 'system:worker', 'message.failed', { error: outcome.error, attempts: a.attempts + 1 }, now);
  }
  return getActionRow(db, id);
}

/** Held actions that can still be decided, oldest first (of one mailbox, or of the listed ones). */
export function listPendingActionRows(
  db: Db,
  q: { mailbox?: string | undefined; mailboxes?: readonly string[] | undefined; limit: number; now: number },
): MailboxAction[] {
  return (
    stmt(
      db,
      `SELECT * FROM mailbox_actions WHERE status = 'pending' AND expires_at > @now AND (@mailbox IS NULL OR mailbox = @mailbox)
      AND (@mailboxes IS NULL OR ${IN_SCOPE}) ORDER BY created_at, action_id LIMIT @limit`,
    ).all({ now: q.now, mailbox: q.mailbox ?? null, mailboxes: scopeParam(q.mailboxes), limit: q.limit }) as Row[]
  ).map(fromRow);
}

export function countPendingActions(db: Db, mailbox: string): number {
  return stmt(db, "SELECT count(*) FROM mailbox_actions WHERE status = 'pending' AND mailbox = ?", true).get(mailbox) as number;
}

function notPending(id: string, status: string, action: string): MailgateError {
  return new MailgateError('NOT_PENDING', `cannot ${action} ${id}: it is ${status}, not pending; get_message shows its history`, {
    field: 'message_id',
    details: { status },
  });
}
