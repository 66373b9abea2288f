/**
 * Which audit events become webhook events, and what their payloads say. Pure, and importing nothing of the
 * store: the store calls it from appendAudit with the audit event and the message row as they are inside the
 * transaction that wrote them, and stores the payload it returns, so an event exists exactly when its change
 * committed (README "Webhooks -> Delivery") while what a payload says is decided here.
 *
 * A payload carries what a receiver needs to act (ids, status, recipients, subject, metadata, who decided and
 * why) and never a body, a password or a token: webhook receivers are other systems, often with their own logs.
 */
import type { AuditAction } from '../values.js';

export const WEBHOOK_EVENT_TYPES = [
  'email.pending',
  'email.approved',
  'email.rejected',
  'email.expired',
  'email.sent',
  'email.failed',
  'email.blocked',
  'email.cancelled',
  'email.monitored',
  'mailbox.mode_changed',
  'email.outcome_unknown',
  'mailbox.paused',
  'mailbox.resumed',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The names other agent-mail systems give some of these events (Molted's approval webhooks, MCPMail's
 * queue.pending), so a receiver written for them works unchanged. An endpoint may subscribe by either name; one
 * that names the alias (and not mailgate's own) receives the event under the alias, with the data keys those
 * receivers read added beside mailgate's own.
 */
const WEBHOOK_EVENT_ALIASES = {
  'approval.approved': 'email.approved',
  'approval.rejected': 'email.rejected',
  'approval.expired': 'email.expired',
  'queue.pending': 'email.pending',
} as const satisfies Record<string, WebhookEventType>;
type WebhookEventAlias = keyof typeof WEBHOOK_EVENT_ALIASES;

/** What an endpoint's `events` filter may name. */
export const SUBSCRIBABLE_EVENT_TYPES = [...WEBHOOK_EVENT_TYPES, ...(Object.keys(WEBHOOK_EVENT_ALIASES) as WebhookEventAlias[])] as const;
export type SubscribableEventType = (typeof SUBSCRIBABLE_EVENT_TYPES)[number];

/** The alias of a mailgate event type, or null when it has none. */
export function aliasOf(type: string): WebhookEventAlias | null {
  const found = Object.entries(WEBHOOK_EVENT_ALIASES).find(([, own]) => own === type);
  return found ? (found[0] as WebhookEventAlias) : null;
}

/**
 * The event as one endpoint receives it: unchanged, or under the alias the endpoint subscribed by. `payload` is
 * the stored JSON; the result is what gets signed and posted.
 */
export function asSubscribed(type: string, payload: string, events: readonly string[] | null): { type: string; payload: string } {
  const alias = aliasOf(type);
  if (!alias || !events?.includes(alias) || events.includes(type)) return { type, payload };
  const body = JSON.parse(payload) as WebhookPayload;
  const d = body.data;
  const to = Array.isArray(d.to) ? (d.to as string[]) : [];
  // Molted's handlers read requestId, recipientEmail and rejectionReason.
  const extra = { requestId: d.message_id, recipientEmail: to[0] ?? null, ...(alias === 'approval.rejected' ? { rejectionReason: d.reason ?? null } : {}) };
  return { type: alias, payload: JSON.stringify({ ...body, type: alias, data: { ...d, ...extra } }) };
}

const BY_ACTION: Partial<Record<AuditAction, WebhookEventType>> = {
  'message.held': 'email.pending',
  'message.approved': 'email.approved',
  'message.rejected': 'email.rejected',
  'message.expired': 'email.expired',
  'message.sent': 'email.sent',
  'message.failed': 'email.failed',
  // The send may or may not have reached the server: a person has to find out (README "Real mailboxes") and
  // then `mailgate resolve` it, so this is its own event rather than a kind of failure.
  'message.outcome_unknown': 'email.outcome_unknown',
  'message.blocked': 'email.blocked',
  'message.cancelled': 'email.cancelled',
  // monitored mode: the send went ahead without approval, and people are told.
  'message.notified': 'email.monitored',
  'mailbox.mode_changed': 'mailbox.mode_changed',
  'mailbox.paused': 'mailbox.paused',
  'mailbox.resumed': 'mailbox.resumed',
};

/** The webhook event type an audit action reports, or undefined when it reports none. */
export function webhookTypeFor(action: AuditAction): WebhookEventType | undefined {
  return BY_ACTION[action];
}

export interface WebhookPayload {
  type: WebhookEventType | WebhookEventAlias;
  /** When the event happened (the audit event's time), ISO 8601. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** The parts of an audit event a payload is built from (src/store/audit.ts AuditEvent has them). */
export interface AuditFacts {
  at: number;
  actor: string;
  mailbox: string | null;
  message_id: string | null;
  detail: Record<string, unknown>;
}

/** The parts of an outbound message a payload is built from (src/store/messages.ts OutboundMessage has them). */
export interface MessageFacts {
  message_id: string;
  mailbox: string;
  kind: string;
  status: string;
  from_addr: string;
  to: readonly string[];
  cc: readonly string[];
  bcc: readonly string[];
  subject: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  gate_code: string;
  gate_reason: string;
  gate_rule: string | null;
  decided_by: string | null;
  decided_at: number | null;
  decision_reason: string | null;
  sent_at: number | null;
  last_error: string | null;
  /** The Message-ID header, for looking an outcome_unknown message up at the recipient's side or in server logs. */
  message_id_header?: string;
  /** The agent's send_email/reply_email `metadata` (a ticket or case id a receiver matches the event to). */
  metadata?: Record<string, unknown> | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function buildPayload(type: WebhookEventType, e: AuditFacts, message: MessageFacts | undefined): WebhookPayload {
  const data =
    type === 'mailbox.mode_changed'
      ? modeChangeData(e)
      : type === 'mailbox.paused' || type === 'mailbox.resumed'
        ? { mailbox: e.mailbox, by: e.actor, ...e.detail }
        : message
          ? messageData(type, message, e)
          : { message_id: e.message_id, mailbox: e.mailbox };
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

function messageData(type: WebhookEventType, m: MessageFacts, e: AuditFacts): Record<string, unknown> {
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
    metadata: m.metadata ?? null,
  };
  if (m.decided_by !== null) Object.assign(data, { decided_by: m.decided_by, decided_at: iso(m.decided_at) });
  switch (type) {
    case 'email.pending':
      return { ...data, expires_at: iso(m.expires_at) };
    case 'email.blocked':
      return { ...data, reason: m.gate_reason };
    case 'email.approved':
      return { ...data, reason: m.decision_reason, edited: e.detail.edited === true };
    case 'email.rejected':
    case 'email.cancelled':
      return { ...data, reason: m.decision_reason };
    case 'email.expired':
      return { ...data, expires_at: iso(m.expires_at) };
    case 'email.sent':
      return { ...data, sent_at: iso(m.sent_at) };
    case 'email.failed':
      return { ...data, error: m.last_error };
    // What to look for on the recipient's side and in the SMTP server's logs.
    case 'email.outcome_unknown':
      return { ...data, error: m.last_error, message_id_header: m.message_id_header ?? null };
    default:
      return data;
  }
}
