/**
 * Which audit events become webhook events, and what their payloads say. Pure: the store hands in the audit
 * event and the message row as they are inside the transaction that wrote them.
 *
 * A payload carries what a receiver needs to act (ids, status, recipients, subject, who decided and why) and
 * never a body, a password or a token: webhook receivers are other systems, often with their own logs.
 */
import type { AuditAction } from '../values.js';
import type { AuditEvent } from '../store/audit.js';
import type { OutboundMessage } from '../store/messages.js';

export const WEBHOOK_EVENT_TYPES = [
  'email.pending', 'email.approved', 'email.rejected', 'email.expired', 'email.sent', 'email.failed',
  'email.blocked', 'email.cancelled', 'email.monitored', 'mailbox.mode_changed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const BY_ACTION: Partial<Record<AuditAction, WebhookEventType>> = {
  'message.held': 'email.pending',
  'message.approved': 'email.approved',
  'message.rejected': 'email.rejected',
  'message.expired': 'email.expired',
  'message.sent': 'email.sent',
  'message.failed': 'email.failed',
  // The send may or may not have reached the server; for a receiver it did not go as planned. data.status
  // says 'outcome_unknown' so the two can be told apart.
  'message.outcome_unknown': 'email.failed',
  'message.blocked': 'email.blocked',
  'message.cancelled': 'email.cancelled',
  // monitored mode: the send went ahead without approval, and people are told.
  'message.notified': 'email.monitored',
  'mailbox.mode_changed': 'mailbox.mode_changed',
};

/** The webhook event type an audit action reports, or undefined when it reports none. */
export function webhookTypeFor(action: AuditAction): WebhookEventType | undefined {
  return BY_ACTION[action];
}

export interface WebhookPayload {
  type: WebhookEventType;
  /** When the event happened (the audit event's time), ISO 8601. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** The parts of an audit event a payload is built from. */
export type AuditFacts = Pick<AuditEvent, 'at' | 'actor' | 'mailbox' | 'message_id' | 'detail'>;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function buildPayload(type: WebhookEventType, e: AuditFacts, message: OutboundMessage | undefined): WebhookPayload {
  const data = type === 'mailbox.mode_changed' ? modeChangeData(e) : message ? messageData(type, message, e) : { message_id: e.message_id, mailbox: e.mailbox };
  return { type, timestamp: new Date(e.at).toISOString(), data };
}

function modeChangeData(e: AuditFacts): Record<string, unknown> {
  const changes = (e.detail.changes ?? {}) as Record<string, { from: unknown; to: unknown } | undefined>;
  return {
    mailbox: e.mailbox,
    oversight_mode: changes.oversight_mode?.to,
    changes,
    changed_by: e.actor,
    reason: e.detail.reason ?? null,
    pending_unaffected: e.detail.pending_unaffected ?? 0,
  };
}

function messageData(type: WebhookEventType, m: OutboundMessage, e: AuditFacts): Record<string, unknown> {
  const data: Record<string, unknown> = {
    message_id: m.message_id,
    mailbox: m.mailbox,
    kind: m.kind,
    status: m.status,
    from: m.from_addr,
    to: m.to,
    cc: m.cc,
    bcc: m.bcc,
    subject: m.subject,
    created_by: m.created_by,
    created_at: iso(m.created_at),
    gate: { code: m.gate_code, reason: m.gate_reason, rule: m.gate_rule },
  };
  if (m.decided_by !== null) Object.assign(data, { decided_by: m.decided_by, decided_at: iso(m.decided_at) });
  switch (type) {
    case 'email.pending': return { ...data, expires_at: iso(m.expires_at) };
    case 'email.blocked': return { ...data, reason: m.gate_reason };
    case 'email.approved': return { ...data, reason: m.decision_reason, edited: e.detail.edited === true };
    case 'email.rejected':
    case 'email.cancelled': return { ...data, reason: m.decision_reason };
    case 'email.expired': return { ...data, expires_at: iso(m.expires_at) };
    case 'email.sent': return { ...data, sent_at: iso(m.sent_at) };
    case 'email.failed': return { ...data, error: m.last_error };
    default: return data;
  }
}
