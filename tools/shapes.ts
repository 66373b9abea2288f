/** Output shapes shared by several tools, and the mappers from store rows to them. */
import * as z from 'zod';
import type { AuditEvent, InboundEmail, Mailbox, OutboundMessage } from '../src/store/store.js';
import { formatDuration, MESSAGE_STATUSES } from '../src/values.js';
import { snippet } from '../src/text/inbound.js';
import { cleanAttachmentName, cleanLine } from '../src/text/invisible.js';
import { THREAD_CHANGE_KINDS } from '../src/gate/thread-changes.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const sendResultShape = {
  message_id: z.string(),
  status: z.enum(['sent', 'queued', 'pending', 'blocked', 'failed', 'rejected', 'expired', 'cancelled', 'outcome_unknown']),
  expires_at: z.string().optional().describe('When a held message expires unless a human decides (pending only)'),
  reason: z.string().optional(),
  error: z.string().optional().describe('Set when the gate refused the action: action_blocked or a policy code such as rate_limited'),
  retry_after: z.string().optional().describe('rate_limited only: when sending can succeed again (ISO time)'),
  duplicate_of: z.string().optional().describe('duplicate only: the message already drafted with this content'),
};

export const emailSummary = z.object({
  email_id: z.string(),
  folder: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  date: z.string(),
  snippet: z.string(),
  unread: z.boolean(),
});

export function toSummary(e: InboundEmail): z.infer<typeof emailSummary> {
  return {
    email_id: e.email_id, folder: e.folder, from: cleanLine(e.from_addr), to: e.to.map(cleanLine), subject: cleanLine(e.subject),
    date: iso(e.date)!, snippet: snippet(e.text, e.html, 160), unread: e.unread,
  };
}

/** Attachment metadata of inbound mail as an agent sees it: names safe to display (src/text/invisible.ts). */
export const inboundFiles = (files: InboundEmail['attachments']) =>
  files.map((a) => ({ filename: cleanAttachmentName(a.filename), content_type: a.content_type, size: a.size }));

/** Policy rules a draft hit, with their details (which recipient, which kind of secret and where, the limit). */
const policyHits = z.array(z.object({
  rule: z.string(), code: z.string(), effect: z.enum(['block', 'hold']), reason: z.string(), details: z.record(z.string(), z.unknown()).optional(),
}));

export const pendingItem = z.object({
  message_id: z.string(),
  mailbox: z.string(),
  kind: z.enum(['send', 'reply', 'tag']),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  subject: z.string(),
  body_preview: z.string(),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: z.string(),
  reason: z.string(),
  /** Policy rules the draft hit (holds): what the reviewer should look at first. */
  policy_hits: policyHits,
  attachments: z.array(z.object({ filename: z.string(), content_type: z.string(), size: z.number().int() })),
});

const hitsOf = (m: OutboundMessage) => m.policy_hits.map((h) => ({ rule: h.rule, code: h.code, effect: h.effect, reason: h.reason, ...(h.details ? { details: h.details } : {}) }));
const filesOf = (m: OutboundMessage) => m.attachments.map((a) => ({ filename: a.filename, content_type: a.content_type, size: a.size }));

export function toPendingItem(m: OutboundMessage): z.infer<typeof pendingItem> {
  return {
    message_id: m.message_id, mailbox: m.mailbox, kind: m.kind, to: m.to, cc: m.cc, bcc: m.bcc, subject: m.subject,
    // A reviewer sees text the draft hides from view, marked: the recipient's agent would read it.
    body_preview: snippet(m.text, m.html, 280, { showHidden: true }), created_by: m.created_by,
    created_at: iso(m.created_at)!, expires_at: iso(m.expires_at) ?? '', reason: m.gate_reason,
    policy_hits: hitsOf(m), attachments: filesOf(m),
  };
}

export const auditEvent = z.object({
  seq: z.number().int(),
  event_id: z.string(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  mailbox: z.string().nullable(),
  message_id: z.string().nullable(),
  email_id: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
});

export function toAuditEvent(e: AuditEvent): z.infer<typeof auditEvent> {
  return { seq: e.seq, event_id: e.event_id, at: iso(e.at)!, actor: e.actor, action: e.action, mailbox: e.mailbox,
    message_id: e.message_id, email_id: e.email_id, detail: e.detail };
}

export const mailboxShape = z.object({
  address: z.string(),
  display_name: z.string().nullable(),
  oversight_mode: z.enum(['read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous']),
  mode_source: z.string(),
  auto_approve_rules: z.array(z.record(z.string(), z.unknown())),
  pending_ttl: z.string(),
  transport: z.enum(['sandbox', 'imap_smtp']),
  policy: z.record(z.string(), z.unknown()).describe("The mailbox's own policy settings (the global ones apply beneath)"),
  updated_at: z.string(),
});

export function toMailbox(m: Mailbox): z.infer<typeof mailboxShape> {
  return { address: m.address, display_name: m.display_name, oversight_mode: m.oversight_mode, mode_source: m.mode_source,
    auto_approve_rules: m.auto_approve_rules, pending_ttl: formatDuration(m.pending_ttl_seconds), transport: m.transport,
    policy: m.policy, updated_at: iso(m.updated_at)! };
}

export const messageDetail = z.object({
  message_id: z.string(),
  mailbox: z.string(),
  kind: z.enum(['send', 'reply', 'tag']),
  status: z.enum(MESSAGE_STATUSES),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  bcc: z.array(z.string()),
  subject: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  decided_at: z.string().nullable(),
  decided_by: z.string().nullable(),
  decision_reason: z.string().nullable(),
  edited: z.boolean(),
  sent_at: z.string().nullable(),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  gate: z.object({ code: z.string(), reason: z.string(), rule: z.string().nullable(), mode_at_submit: z.string() }),
  policy_hits: policyHits,
  attachments: z.array(z.object({ filename: z.string(), content_type: z.string(), size: z.number().int() })),
});

export function toMessageDetail(m: OutboundMessage): z.infer<typeof messageDetail> {
  return {
    message_id: m.message_id, mailbox: m.mailbox, kind: m.kind, status: m.status, to: m.to, cc: m.cc, bcc: m.bcc,
    subject: m.subject, created_at: iso(m.created_at)!, expires_at: iso(m.expires_at), decided_at: iso(m.decided_at),
    decided_by: m.decided_by, decision_reason: m.decision_reason, edited: m.original_content !== null,
    sent_at: iso(m.sent_at), attempts: m.attempts, last_error: m.last_error,
    gate: { code: m.gate_code, reason: m.gate_reason, rule: m.gate_rule, mode_at_submit: m.mode_at_submit },
    policy_hits: hitsOf(m), attachments: filesOf(m),
  };
}

/** What a reply changes against its thread (src/services/thread-changes.ts): look at these before approving. */
export const threadChangeFields = {
  thread_compared: z.boolean().describe('False when the message is not a reply: only links whose text shows another domain are checked'),
  thread_changes: z.array(z.object({ kind: z.enum(THREAD_CHANGE_KINDS), value: z.string() }))
    .describe('New recipients, link domains and account numbers (IBAN, card, routing, BIC) not in the thread, and disguised links'),
};

/** Drops undefined keys: the client checks structuredContent against the schema, key by key. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
