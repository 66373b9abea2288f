/**
 * Store records as people and agents see them: the MCP tools (tools/shapes.ts holds their zod output shapes),
 * the CLI's --json and tables, and the dashboard all map through these, so a record reads the same everywhere
 * and text from outside is cleaned (src/text/) on every path. Pure functions of records: no store, no I/O.
 *
 * Views are type aliases, not interfaces, so they pass where a plain record is expected (the CLI's tables).
 */
import type { AuditEvent, InboundEmail, Mailbox, OutboundMessage } from '../store/store.js';
import { formatDuration, type MessageStatus, type OversightMode } from '../values.js';
import { bodyView, snippet } from '../text/inbound.js';
import { cleanAttachmentName, cleanLine } from '../text/invisible.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export type EmailSummary = {
  email_id: string;
  folder: string;
  from: string;
  to: string[];
  subject: string;
  date: string;
  snippet: string;
  unread: boolean;
};

export function toSummary(e: InboundEmail): EmailSummary {
  return {
    email_id: e.email_id,
    folder: e.folder,
    from: cleanLine(e.from_addr),
    to: e.to.map(cleanLine),
    subject: cleanLine(e.subject),
    date: iso(e.date)!,
    snippet: snippet(e.text, e.html, 160),
    unread: e.unread,
  };
}

type FileView = { filename: string; content_type: string; size: number };

/** Attachment metadata of inbound mail as an agent sees it: names safe to display (src/text/invisible.ts). */
const inboundFiles = (files: InboundEmail['attachments']): FileView[] =>
  files.map((a) => ({ filename: cleanAttachmentName(a.filename), content_type: a.content_type, size: a.size }));

/** A policy rule a draft hit, with its details (which recipient, which kind of secret and where, the limit). */
type PolicyHitView = {
  rule: string;
  code: string;
  effect: 'block' | 'hold';
  reason: string;
  details?: Record<string, unknown>;
};

/**
 * The key/value pairs the agent attached when drafting (send_email `metadata`), or null. Scalars only: the
 * tools' input schema (tools/inputs.ts metadataField) admits nothing else into the column.
 */
type Metadata = Record<string, string | number | boolean> | null;
const metadataOf = (m: OutboundMessage): Metadata => (m.metadata as Metadata) ?? null;

export type PendingItem = {
  message_id: string;
  mailbox: string;
  kind: OutboundMessage['kind'];
  status: MessageStatus;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  body_preview: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  reason: string;
  policy_hits: PolicyHitView[];
  attachments: FileView[];
  metadata: Metadata;
};

const hitsOf = (m: OutboundMessage): PolicyHitView[] =>
  m.policy_hits.map((h) => ({ rule: h.rule, code: h.code, effect: h.effect, reason: h.reason, ...(h.details ? { details: h.details } : {}) }));
const filesOf = (m: OutboundMessage): FileView[] => m.attachments.map((a) => ({ filename: a.filename, content_type: a.content_type, size: a.size }));

export function toPendingItem(m: OutboundMessage): PendingItem {
  return {
    message_id: m.message_id,
    mailbox: m.mailbox,
    kind: m.kind,
    status: m.status,
    to: m.to,
    cc: m.cc,
    bcc: m.bcc,
    subject: m.subject,
    // A reviewer sees text the draft hides from view, marked: the recipient's agent would read it.
    body_preview: snippet(m.text, m.html, 280, { showHidden: true }),
    created_by: m.created_by,
    created_at: iso(m.created_at)!,
    expires_at: iso(m.expires_at) ?? '',
    reason: m.gate_reason,
    policy_hits: hitsOf(m),
    attachments: filesOf(m),
    metadata: metadataOf(m),
  };
}

export type AuditEventView = {
  seq: number;
  event_id: string;
  at: string;
  actor: string;
  action: string;
  mailbox: string | null;
  message_id: string | null;
  email_id: string | null;
  detail: Record<string, unknown>;
};

export function toAuditEvent(e: AuditEvent): AuditEventView {
  return {
    seq: e.seq,
    event_id: e.event_id,
    at: iso(e.at)!,
    actor: e.actor,
    action: e.action,
    mailbox: e.mailbox,
    message_id: e.message_id,
    email_id: e.email_id,
    detail: e.detail,
  };
}

export type MailboxView = {
  address: string;
  display_name: string | null;
  oversight_mode: OversightMode;
  mode_source: string;
  auto_approve_rules: Record<string, unknown>[];
  pending_ttl: string;
  transport: Mailbox['transport'];
  policy: Record<string, unknown>;
  metadata: Record<string, unknown>;
  updated_at: string;
};

export function toMailbox(m: Mailbox): MailboxView {
  return {
    address: m.address,
    display_name: m.display_name,
    oversight_mode: m.oversight_mode,
    mode_source: m.mode_source,
    auto_approve_rules: m.auto_approve_rules,
    pending_ttl: formatDuration(m.pending_ttl_seconds),
    transport: m.transport,
    policy: m.policy,
    metadata: m.metadata ?? {},
    updated_at: iso(m.updated_at)!,
  };
}

export type MessageDetail = {
  message_id: string;
  mailbox: string;
  kind: OutboundMessage['kind'];
  status: MessageStatus;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  created_at: string;
  expires_at: string | null;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string | null;
  edited: boolean;
  sent_at: string | null;
  attempts: number;
  last_error: string | null;
  gate: { code: string; reason: string; rule: string | null; mode_at_submit: string };
  policy_hits: PolicyHitView[];
  attachments: FileView[];
  metadata: Metadata;
};

export function toMessageDetail(m: OutboundMessage): MessageDetail {
  return {
    message_id: m.message_id,
    mailbox: m.mailbox,
    kind: m.kind,
    status: m.status,
    to: m.to,
    cc: m.cc,
    bcc: m.bcc,
    subject: m.subject,
    created_at: iso(m.created_at)!,
    expires_at: iso(m.expires_at),
    decided_at: iso(m.decided_at),
    decided_by: m.decided_by,
    decision_reason: m.decision_reason,
    edited: m.original_content !== null,
    sent_at: iso(m.sent_at),
    attempts: m.attempts,
    last_error: m.last_error,
    gate: { code: m.gate_code, reason: m.gate_reason, rule: m.gate_rule, mode_at_submit: m.mode_at_submit },
    policy_hits: hitsOf(m),
    attachments: filesOf(m),
    metadata: metadataOf(m),
  };
}

export type EmailRead = {
  email_id: string;
  mailbox: string;
  folder: string;
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  date: string;
  text: string;
  text_length: number;
  hidden_content: boolean;
  hidden_count: number;
  next_offset: number | null;
  attachments: FileView[];
  message_id_header: string | null;
  in_reply_to: string | null;
  references: string[];
  untrusted_content: true;
};

/**
 * One part of an inbound email as read_email returns it: the visible text (src/text/inbound.ts bodyView, hidden
 * text removed or, with showHidden, marked), from `offset`, at most `maxChars` characters.
 */
export function toEmailRead(e: InboundEmail, part: { offset: number; maxChars: number; showHidden: boolean }): EmailRead {
  const body = bodyView(e.text, e.html, { showHidden: part.showHidden });
  const full = body.text;
  const end = Math.min(full.length, part.offset + part.maxChars);
  return {
    email_id: e.email_id,
    mailbox: e.mailbox,
    folder: e.folder,
    from: cleanLine(e.from_addr),
    to: e.to.map(cleanLine),
    cc: e.cc.map(cleanLine),
    subject: cleanLine(e.subject),
    date: new Date(e.date).toISOString(),
    text: full.slice(part.offset, end),
    text_length: full.length,
    hidden_content: body.hidden_count > 0,
    hidden_count: body.hidden_count,
    next_offset: end < full.length ? end : null,
    attachments: inboundFiles(e.attachments),
    message_id_header: e.message_id_header,
    in_reply_to: e.in_reply_to_header,
    references: (e.references_header ?? '').split(/\s+/).filter(Boolean),
    untrusted_content: true,
  };
}
