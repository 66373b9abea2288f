/**
 * Output shapes shared by several tools. The mappers from records to them live in src/present/records.ts,
 * shared with the CLI and the dashboard (which may not import tools/); they are re-exported here for the tools.
 */
import * as z from 'zod';
import { ACTION_STATUSES, MESSAGE_STATUSES } from '../src/values.js';
import { THREAD_CHANGE_KINDS } from '../src/gate/thread-changes.js';

export { toAuditEvent, toMailbox, toPendingItem, toSummary } from '../src/present/records.js';
export { toActionView, toReviewDetail } from '../src/present/actions.js';

export const sendResultShape = {
  message_id: z.string(),
  status: z.enum(['sent', 'queued', 'pending', 'blocked', 'failed', 'rejected', 'expired', 'cancelled', 'outcome_unknown']),
  expires_at: z.string().optional().describe('When a held message expires unless a human decides (pending only)'),
  reason: z.string().optional(),
  error: z.string().optional().describe('Set when the gate refused the action: action_blocked or a policy code such as rate_limited'),
  retry_after: z.string().optional().describe('rate_limited only: when sending can succeed again (ISO time)'),
  duplicate_of: z.string().optional().describe('duplicate only: the message already drafted with this content'),
  estimated_review_time: z
    .string()
    .nullable()
    .optional()
    .describe("pending only: the median time people took to decide this mailbox's recent held mail (e.g. 25m, 3h), or null without enough history"),
};

/** What a write to a mailbox (tag_email, delete_email) answers: applied at once, or held, refused or failed by the gate. */
export const actionResultShape = {
  action_id: z.string(),
  email_id: z.string(),
  status: z.enum(['applied', 'queued', 'pending', 'blocked', 'failed', 'rejected', 'expired', 'cancelled']),
  expires_at: z.string().optional(),
  reason: z.string().optional(),
  error: z.string().optional(),
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

/** Policy rules a draft hit, with their details (which recipient, which kind of secret and where, the limit). */
const policyHits = z.array(
  z.object({
    rule: z.string(),
    code: z.string(),
    effect: z.enum(['block', 'hold']),
    reason: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
);

/** What the agent attached with send_email/reply_email `metadata`: kept with the message, never sent. */
const metadataOut = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .nullable()
  .describe('The key/value pairs given as metadata when the message was drafted, or null');

export const pendingItem = z.object({
  message_id: z.string(),
  mailbox: z.string(),
  kind: z.enum(['send', 'reply']),
  status: z.enum(MESSAGE_STATUSES),
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
  metadata: metadataOut,
});

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

export const mailboxShape = z.object({
  address: z.string(),
  display_name: z.string().nullable(),
  oversight_mode: z.enum(['read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous']),
  mode_source: z.string(),
  auto_approve_rules: z.array(z.record(z.string(), z.unknown())),
  pending_ttl: z.string(),
  transport: z.enum(['sandbox', 'imap_smtp']),
  policy: z.record(z.string(), z.unknown()).describe("The mailbox's own policy settings (the global ones apply beneath)"),
  metadata: z.record(z.string(), z.unknown()).describe('Operator-set labels (never read by the gate)'),
  updated_at: z.string(),
});

const messageDetail = z.object({
  message_id: z.string(),
  mailbox: z.string(),
  kind: z.enum(['send', 'reply']),
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
  metadata: metadataOut,
});

/** A held mailbox action (tag_email in gated_all): which email, which flags, which folder. */
export const actionView = z.object({
  action_id: z.string(),
  mailbox: z.string(),
  email_id: z.string(),
  add_flags: z.array(z.string()),
  remove_flags: z.array(z.string()),
  move_to: z.string().nullable(),
  delete: z.enum(['trash', 'permanent']).nullable(),
  status: z.enum(ACTION_STATUSES),
  created_by: z.string(),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  reason: z.string(),
  applied_at: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable(),
});

/**
 * What the review tools answer for a message_id that may name a held mailbox action (act_): type 'email' with
 * every message field, or type 'action' with `action` and the decision fields (message_id is then the act_ id).
 */
export const reviewDetail = messageDetail.partial().extend({
  type: z.enum(['email', 'action']),
  message_id: z.string(),
  mailbox: z.string(),
  status: z.enum([...MESSAGE_STATUSES, ...ACTION_STATUSES.filter((s) => !(MESSAGE_STATUSES as readonly string[]).includes(s))]),
  created_at: z.string(),
  action: actionView.optional(),
});

/** What a reply changes against its thread (src/services/thread-changes.ts): look at these before approving. */
export const threadChangeFields = {
  thread_compared: z.boolean().describe('False when the message is not a reply: only links whose text shows another domain are checked'),
  thread_changes: z
    .array(z.object({ kind: z.enum(THREAD_CHANGE_KINDS), value: z.string() }))
    .describe('New recipients, link domains and account numbers (IBAN, card, routing, BIC) not in the thread, and disguised links'),
};

/** Drops undefined keys: the client checks structuredContent against the schema, key by key. */
export function compact<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
