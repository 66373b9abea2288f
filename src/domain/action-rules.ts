/**
 * What a held mailbox action (tag_email) may do, on either backend: submit with the gate's decision, decide,
 * expire, and record the worker's outcome. Audited with the message.* events (the action id in message_id) so
 * get_message's history, the audit trail and webhooks read it as they read mail; `email.tagged` records an
 * applied action. Each function runs inside the caller's transaction, through the store's primitives.
 */
import { MailgateError } from '../errors.js';
import { resolvePolicy } from '../gate/policy/index.js';
import type { ActionStatus } from '../values.js';
import { type AuditInput, appendAudit } from '../store/audit.js';
import * as actions from '../store/mailbox-actions.js';
import * as mailboxes from '../store/mailboxes.js';
import type { SqlTx } from '../store/sql/types.js';
import type { DecideRequest, GateFn } from '../store/store.js';
import { notPending } from './message-ops.js';
import { signal, signalAction } from './signals.js';

type Row = Record<string, unknown>;
type MailboxAction = actions.MailboxAction;

const audit = (q: SqlTx, a: MailboxAction, actor: string, action: AuditInput['action'], detail: Row, now: number) =>
  appendAudit(q, { actor, action, mailbox: a.mailbox, message_id: a.action_id, email_id: a.email_id, detail: { kind: 'mailbox_action', ...detail } }, now);

/** Records an action with the gate's decision, evaluated here with the facts of this transaction. */
export async function submitActionInTx(q: SqlTx, req: actions.ActionRequest, gate: GateFn, now: number): Promise<MailboxAction> {
  const mailbox = await mailboxes.getMailboxRow(q, req.mailbox);
  if (!mailbox) throw await mailboxes.unknownMailbox(q, req.mailbox);
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
  await actions.insertActionRow(q, a);
  signalAction(q, a.mailbox, status);
  await audit(
    q,
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
export async function decideActionInTx(q: SqlTx, id: string, req: DecideRequest, now: number): Promise<Result> {
  const a = await actions.getActionRow(q, id);
  if (!a)
    return { ok: false, error: new MailgateError('UNKNOWN_MESSAGE', `no held action '${id}'; list_pending shows the held ones`, { field: 'message_id' }) };
  if (a.status === 'pending' && a.expires_at !== null && a.expires_at <= now) {
    await expire(q, a, now);
    return { ok: false, error: notPending(id, 'expired', req.action) };
  }
  const to: ActionStatus = req.action === 'approve' ? 'approved' : req.action === 'reject' ? 'rejected' : 'cancelled';
  const reason = req.action === 'approve' ? (req.note ?? null) : req.action === 'reject' ? req.reason : (req.reason ?? null);
  const set: Row = { decided_at: now, decided_by: req.actor, decision_reason: reason, ...(to === 'approved' ? { next_attempt_at: now } : {}) };
  if (!(await actions.transition(q, id, to, set, now, 'AND expires_at > @now')))
    return { ok: false, error: notPending(id, (await actions.getActionRow(q, id))?.status ?? 'unknown', req.action) };
  signalAction(q, a.mailbox, to);
  await audit(
    q,
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
  return { ok: true, value: (await actions.getActionRow(q, id))! };
}

async function expire(q: SqlTx, a: MailboxAction, now: number): Promise<boolean> {
  if (!(await actions.transition(q, a.action_id, 'expired', { decided_at: now, decided_by: 'system:expiry' }, now))) return false;
  signalAction(q, a.mailbox, 'expired');
  await audit(q, a, 'system:expiry', 'message.expired', { expires_at: a.expires_at }, now);
  return true;
}

/** Expires held actions past their expiry, at most `limit`; each expired one as it is now. */
export async function expireDueActions(q: SqlTx, now: number, limit: number): Promise<MailboxAction[]> {
  const expired: MailboxAction[] = [];
  for (const a of await actions.dueActionRows(q, now, limit)) {
    if (await expire(q, a, now)) expired.push((await actions.getActionRow(q, a.action_id))!);
  }
  return expired;
}

/** Records the outcome if `owner` still holds the lease; undefined when it was lost. */
export async function recordActionOutcome(
  q: SqlTx,
  id: string,
  owner: string,
  outcome: actions.ActionOutcome,
  now: number,
): Promise<MailboxAction | undefined> {
  const a = await actions.getActionRow(q, id);
  if (!a || a.lease_owner !== owner || a.status !== 'approved') return undefined;
  if (outcome.kind === 'retry') {
    if (!(await actions.retryActionRow(q, id, owner, outcome.error, outcome.next_attempt_at, now))) return undefined;
    return actions.getActionRow(q, id);
  }
  const release = { lease_owner: null, lease_until: null, attempts: a.attempts + 1 };
  // Compare-and-set on the lease too: another instance may have claimed the action since it was read.
  const leased = 'AND lease_owner = @owner';
  if (outcome.kind === 'applied') {
    const set = { ...release, applied_at: now, result: JSON.stringify(outcome.result) };
    if (!(await actions.transition(q, id, 'applied', set, now, leased, { owner }))) return undefined;
    await audit(q, a, 'system:worker', 'email.tagged', { action: a.action, result: outcome.result }, now);
  } else {
    if (!(await actions.transition(q, id, 'failed', { ...release, last_error: outcome.error }, now, leased, { owner }))) return undefined;
    await audit(q, a, 'system:worker', 'message.failed', { error: outcome.error, attempts: a.attempts + 1 }, now);
  }
  signal(q, 'outbound', a.mailbox);
  return actions.getActionRow(q, id);
}
