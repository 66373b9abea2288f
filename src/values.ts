/**
 * Shared value types, defined once and used by config, tools and services alike.
 * Status and reason vocabularies here are the same strings as the CHECK constraints in schema.sql.
 */
import * as z from 'zod';

export const OVERSIGHT_MODES = ['read_only', 'gated_all', 'gated_send', 'monitored', 'autonomous'] as const;
export type OversightMode = (typeof OVERSIGHT_MODES)[number];
export const OversightMode = z.enum(OVERSIGHT_MODES);

/** Outbound lifecycle statuses (see src/gate/lifecycle.ts for the transitions). */
export const MESSAGE_STATUSES = [
  'pending',
  'approved',
  'queued',
  'sending',
  'sent',
  'failed',
  'outcome_unknown',
  'rejected',
  'expired',
  'cancelled',
  'blocked',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export const MessageStatus = z.enum(MESSAGE_STATUSES);

/** Held mailbox action statuses (see src/gate/action-lifecycle.ts for the transitions). */
export const ACTION_STATUSES = ['pending', 'approved', 'applied', 'failed', 'rejected', 'expired', 'cancelled', 'blocked'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/**
 * The gate's reason codes (messages.gate_code). Execute: mode_allows, auto_approved. Hold: the mode's two and
 * the content holds (hold_*). Block: action_blocked (the mode) and the policy blocks, each one the agent can act on.
 */
export const GATE_CODES = [
  'mode_allows',
  'auto_approved',
  'mode_requires_approval',
  'require_approval',
  'action_blocked',
  'duplicate',
  'rate_limited',
  'suppressed_recipient',
  'domain_blocked',
  'domain_not_allowed',
  'too_many_recipients',
  'attachment_limit',
  'hold_new_recipient',
  'hold_external_domain',
  'hold_secret',
  'hold_automated_decision',
  'held_limit',
] as const;
export type GateCode = (typeof GATE_CODES)[number];

/**
 * Operator-set labels on a mailbox (`metadata`, e.g. `{ "team": "billing", "gdpr_article22_scope": true }`) for
 * other systems and reviewers: shown by list_mailboxes and the CLI, never read by the gate.
 */
export const MailboxMetadata = z
  .record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'metadata keys are 1 to 64 letters, digits, _ . or -' }),
    z.union([z.string().max(1000), z.number(), z.boolean()]),
  )
  .refine((m) => Object.keys(m).length <= 50, { error: 'metadata has more than 50 keys' });

/** Kinds of automated decision about a person a draft may be marked with (GDPR Art. 22); `other` for the rest. */
export const DECISION_TYPES = ['application_outcome', 'credit', 'account_action', 'insurance_claim', 'employment', 'other'] as const;

/** Audit event actions (audit_events.action). */
export const AUDIT_ACTIONS = [
  'message.submitted',
  'message.blocked',
  'message.held',
  'message.approved',
  'message.edited',
  'message.rejected',
  'message.cancelled',
  'message.expired',
  'message.sent',
  'message.retry_scheduled',
  'message.failed',
  'message.outcome_unknown',
  'message.notified',
  'email.tagged',
  'email.read',
  'mailbox.created',
  'mailbox.updated',
  'mailbox.mode_changed',
  'message.send_refused',
  'message.confirmation_requested',
  'message.erased',
  'token.created',
  'token.revoked',
  'suppression.added',
  'suppression.removed',
  'webhook.added',
  'webhook.removed',
  'authz.denied',
  'mailbox.confirmation_requested',
  'mailbox.paused',
  'mailbox.resumed',
  'message.resolved',
  'contact.added',
  'contact.removed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const ROLES = ['agent', 'reviewer', 'operator'] as const;
export type Role = (typeof ROLES)[number];

// RFC 5321 caps a path at 256 octets and a local part at 64; a simple, strict shape is enough for a gate:
// anything exotic (quoted local parts, IP literals) is refused with a clear message rather than guessed at.
const LOCAL_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
// Dot-atom local part (RFC 5322 §3.4.1): no leading, trailing or doubled dots.
const ADDRESS_RE = new RegExp(
  `^(?=[^@]{1,64}@)${LOCAL_ATOM}(?:\\.${LOCAL_ATOM})*@` +
    /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.source,
);

/** Canonical form of an address for comparison and storage: trimmed, lower case. */
export function canonicalAddress(address: string): string {
  return address.trim().toLowerCase();
}

export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && ADDRESS_RE.test(value) && !value.includes('..');
}

const HEADER_BREAK = /[\r\n]/;

/** A bare address (no display name): `name@example.com`. Canonicalised to lower case. */
export const EmailAddress = z
  .string({ error: 'expected an email address such as name@example.com' })
  .trim()
  .min(1, { error: 'address is empty; give an address such as name@example.com' })
  .refine((v) => !HEADER_BREAK.test(v), { error: 'address contains a line break (CR or LF); remove it' })
  .refine(isEmailAddress, { error: 'not a valid email address; use the form name@example.com' })
  .transform(canonicalAddress);

/**
 * One address or a non-empty list of them, as `to`/`cc`/`bcc` accept. Always normalised to a deduplicated
 * list. Each entry is checked with EmailAddress so a bad single address gets the specific message, not a
 * generic "invalid union".
 */
export function addressList(field: string, max = 50) {
  return z
    .union([z.string(), z.array(z.string())], { error: `${field} must be an address or a list of addresses` })
    .describe(`One address such as name@example.com, or a list of 1 to ${max}`)
    .transform((v, ctx) => {
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0) {
        ctx.addIssue({ code: 'custom', message: `${field} is an empty list; give at least one address or leave ${field} out` });
        return z.NEVER;
      }
      if (list.length > max) {
        ctx.addIssue({ code: 'custom', message: `${field} has more than ${max} addresses` });
        return z.NEVER;
      }
      const out: string[] = [];
      list.forEach((item, i) => {
        const r = EmailAddress.safeParse(item);
        if (r.success) out.push(r.data);
        else for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: Array.isArray(v) ? [i] : [] });
      });
      return [...new Set(out)];
    });
}

/**
 * Control characters no header field may carry: every C0 control (NUL and TAB included), DEL, the C1 controls
 * and the Unicode line and paragraph separators. Some break a header outright (CR, LF); the rest are encoded by
 * nodemailer and reach the recipient as invisible or truncating characters (a NUL ends the string in C code).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this check's purpose
const HEADER_CONTROL = /[\u0000-\u001F\u007F-\u009F\u2028\u2029]/;

/** Why `value` cannot go into header `field`, or null; the one check for tools, edits and compose time. */
export function headerTextProblem(field: string, value: string): string | null {
  if (HEADER_BREAK.test(value)) return `${field} contains a line break (CR or LF); header fields must be one line`;
  const c = HEADER_CONTROL.exec(value)?.[0];
  if (c === undefined) return null;
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  return `${field} contains a control character (${code}); remove it, header fields take printable text only`;
}

/** `value` with its control characters replaced by spaces: for header text mailgate derives from outside mail. */
export function withoutHeaderControls(value: string): string {
  return value.replace(new RegExp(HEADER_CONTROL.source, 'g'), ' ');
}

/** A header-bound single-line string (subject, display name): no CR/LF or other control character. */
export function headerText(field: string, max = 998) {
  return z
    .string()
    .max(max, { error: `${field} is longer than ${max} characters; shorten it` })
    .superRefine((v, ctx) => {
      const problem = headerTextProblem(field, v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}

/** Durations such as `90s`, `15m`, `72h`, `30d` (or a number of seconds). */
export const Duration = z
  .union([
    z.number().int().positive(),
    z
      .string()
      .trim()
      .regex(/^\d+\s*(s|m|h|d)$/i, { error: "expected a duration such as '90s', '15m', '72h' or '30d'" }),
  ])
  .transform((v) => parseDurationSeconds(v))
  .refine((s) => s > 0 && s <= 365 * 86400, { error: 'duration must be between 1 second and 365 days' });

export function parseDurationSeconds(v: number | string): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)\s*(s|m|h|d)$/i.exec(v.trim());
  if (!m) return NaN;
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[m[2]!.toLowerCase() as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

/** Formats seconds for display: `259200` -> `72h`, `2592000` -> `30d`, `90` -> `90s`. */
export function formatDuration(seconds: number): string {
  // Hours up to a week read better (`72h`, the documented default); whole days beyond.
  if (seconds % 86400 === 0 && seconds >= 86400 * 7) return `${seconds / 86400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * How long held mail may wait: 1 hour to 30 days, as the hosted services mailgate follows. Shorter only with
 * the config file's `testing.allow_short_ttl` (tests that watch mail expire); never longer, since held mail
 * is a person's to-do list and a stale approval is a risk of its own.
 */
const PENDING_TTL_MIN_SECONDS = 3600;
const PENDING_TTL_MAX_SECONDS = 30 * 86400;

/** What is wrong with a pending_ttl, or null; `allowShort` is the config's `testing.allow_short_ttl`. */
export function pendingTtlProblem(seconds: number, allowShort: boolean): string | null {
  const min = allowShort ? 1 : PENDING_TTL_MIN_SECONDS;
  if (Number.isInteger(seconds) && seconds >= min && seconds <= PENDING_TTL_MAX_SECONDS) return null;
  const got = Number.isFinite(seconds) ? ` (got ${formatDuration(seconds)})` : '';
  return allowShort
    ? `must be from 1s to 30d${got}; give a duration such as '72h'`
    : `must be from 1h to 30d${got}; give a duration such as '72h' or '7d' (shorter values are for tests only: config testing.allow_short_ttl)`;
}

export const MessageId = z
  .string()
  .trim()
  .regex(/^msg_[A-Za-z0-9_-]{6,64}$/, { error: "expected an outbound message id such as 'msg_…' (from send_email or list_pending)" });
/** What a reviewer decides on: an outbound message (msg_) or a held mailbox action (act_, from tag_email). */
export const ReviewId = z
  .string()
  .trim()
  .regex(/^(msg|act)_[A-Za-z0-9_-]{6,64}$/, {
    error: "expected a message id 'msg_…' or a held action id 'act_…' (from send_email, tag_email or list_pending)",
  });
export const isActionId = (id: string): boolean => id.startsWith('act_');
export const EmailId = z
  .string()
  .trim()
  .regex(/^em_[A-Za-z0-9_-]{6,64}$/, { error: "expected an inbound email id such as 'em_…' (from check_inbox or search_email)" });
