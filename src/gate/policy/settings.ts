/**
 * Policy settings: the checks that run before the oversight mode. Set globally (config `policy`) and per
 * mailbox (`mailboxes[].policy`, stored in mailboxes.policy); a mailbox's keys override the global ones.
 * Defaults are chosen to stop the failures agents actually have (loops, exfiltration by an added recipient,
 * pasted credentials) without holding ordinary mail: see README "Policy".
 */
import * as z from 'zod';
import { Duration } from '../../values.js';
import { canonicalDomain } from '../canonical.js';

const count = (what: string) =>
  z
    .number({ error: `${what} must be a whole number` })
    .int()
    .min(1)
    .max(1_000_000);
const bytes = (what: string) =>
  z
    .number({ error: `${what} must be a number of bytes` })
    .int()
    .min(1)
    .max(1024 ** 3);
const domainGlob = z.string().trim().min(1).max(256);

const RateLimits = z
  .object({
    per_minute: count('rate_limits.per_minute').optional(),
    per_hour: count('rate_limits.per_hour').optional(),
    per_day: count('rate_limits.per_day').optional(),
    per_recipient_per_hour: count('rate_limits.per_recipient_per_hour').optional(),
    per_recipient_per_day: count('rate_limits.per_recipient_per_day').optional(),
  })
  .strict();

const ContentHolds = z
  .object({
    /** A reply that adds someone who is not in the thread (the classic "cc attacker" injection). */
    new_recipient: z.boolean().optional(),
    /** A recipient at an external domain this mailbox has never written to. */
    new_external_domain: z.boolean().optional(),
    /** Text or attachments that look like a credential (API keys, private keys, tokens). */
    secrets: z.boolean().optional(),
  })
  .strict();

export const PolicySettings = z
  .object({
    /** Identical drafts (same recipients, subject, body) within this window are refused as duplicates; 0 turns it off. */
    dedupe_window: z.union([z.literal(0), Duration]).optional(),
    rate_limits: RateLimits.optional(),
    /** When set, every recipient's domain must match one of these globs (subdomains included for a bare domain). */
    allowed_domains: z.array(domainGlob).max(1000).optional(),
    blocked_domains: z.array(domainGlob).max(1000).optional(),
    /** Domains that count as internal (never "external"); the mailbox's own domain always does. */
    internal_domains: z.array(domainGlob).max(1000).optional(),
    max_recipients: count('max_recipients').optional(),
    max_attachments: z.number().int().min(0).max(1000).optional(),
    max_attachment_bytes: bytes('max_attachment_bytes').optional(),
    max_total_attachment_bytes: bytes('max_total_attachment_bytes').optional(),
    /** Messages held for a decision at once; a draft that would be held beyond it is refused (held_limit). */
    max_pending: count('max_pending').optional(),
    content_holds: ContentHolds.optional(),
    /** Refuse an approval by the principal that drafted the message. */
    four_eyes: z.boolean().optional(),
    /**
     * The mailbox sends decisions about people in the sense of GDPR Art. 22 (and EU AI Act Art. 14): every draft
     * marked automated_decision is held for a person, in every mode and past every auto-approve rule.
     */
    gdpr_article22_scope: z.boolean({ error: 'gdpr_article22_scope must be true or false' }).optional(),
    /** delete_email may delete for good (permanent: true); off, it can only move mail to the Trash. */
    allow_permanent_delete: z.boolean({ error: 'allow_permanent_delete must be true or false' }).optional(),
  })
  .strict();
export type PolicySettings = z.infer<typeof PolicySettings>;

/** Every setting resolved: what the rules read. */
export interface EffectivePolicy {
  dedupeWindowSeconds: number;
  rateLimits: z.infer<typeof RateLimits>;
  allowedDomains: string[] | null;
  blockedDomains: string[];
  internalDomains: string[];
  maxRecipients: number;
  maxAttachments: number;
  maxAttachmentBytes: number;
  maxTotalAttachmentBytes: number;
  maxPending: number;
  holds: { newRecipient: boolean; newExternalDomain: boolean; secrets: boolean };
  fourEyes: boolean;
  article22Scope: boolean;
  allowPermanentDelete: boolean;
}

export const POLICY_DEFAULTS: EffectivePolicy = {
  dedupeWindowSeconds: 600,
  // An agent in a loop drafts far faster than a person writes: 60 a minute is beyond any real use of one
  // mailbox and stops a runaway within a minute. Raise it per mailbox for bulk work.
  rateLimits: { per_minute: 60 },
  allowedDomains: null,
  blockedDomains: [],
  internalDomains: [],
  maxRecipients: 50,
  maxAttachments: 10,
  maxAttachmentBytes: 10 * 1024 * 1024,
  maxTotalAttachmentBytes: 25 * 1024 * 1024,
  // A queue nobody can review is no oversight: past 1,000 held messages new drafts are refused, not queued.
  maxPending: 1000,
  holds: { newRecipient: true, newExternalDomain: false, secrets: true },
  fourEyes: false,
  article22Scope: false,
  // Mail in the Trash can be restored; mail expunged cannot. An operator opts in per mailbox.
  allowPermanentDelete: false,
};

/** Defaults, then the global settings, then the mailbox's: the most specific wins, key by key. */
export function resolvePolicy(global: PolicySettings | undefined, mailbox: PolicySettings | undefined): EffectivePolicy {
  const out: EffectivePolicy = structuredClone(POLICY_DEFAULTS);
  for (const s of [global, mailbox]) {
    if (!s) continue;
    if (s.dedupe_window !== undefined) out.dedupeWindowSeconds = s.dedupe_window;
    if (s.rate_limits) out.rateLimits = { ...out.rateLimits, ...s.rate_limits };
    // Domain lists meet recipients in canonical form (punycode, NFKC). A mailbox narrows allowed_domains, but
    // can only add to the global blocked and internal lists: a mailbox setting must not undo a global block.
    if (s.allowed_domains) out.allowedDomains = s.allowed_domains.map(domainEntry);
    if (s.blocked_domains) out.blockedDomains = [...new Set([...out.blockedDomains, ...s.blocked_domains.map(domainEntry)])];
    if (s.internal_domains) out.internalDomains = [...new Set([...out.internalDomains, ...s.internal_domains.map(domainEntry)])];
    if (s.max_recipients !== undefined) out.maxRecipients = s.max_recipients;
    if (s.max_attachments !== undefined) out.maxAttachments = s.max_attachments;
    if (s.max_attachment_bytes !== undefined) out.maxAttachmentBytes = s.max_attachment_bytes;
    if (s.max_total_attachment_bytes !== undefined) out.maxTotalAttachmentBytes = s.max_total_attachment_bytes;
    if (s.max_pending !== undefined) out.maxPending = s.max_pending;
    if (s.content_holds?.new_recipient !== undefined) out.holds.newRecipient = s.content_holds.new_recipient;
    if (s.content_holds?.new_external_domain !== undefined) out.holds.newExternalDomain = s.content_holds.new_external_domain;
    if (s.content_holds?.secrets !== undefined) out.holds.secrets = s.content_holds.secrets;
    if (s.four_eyes !== undefined) out.fourEyes = s.four_eyes;
    if (s.gdpr_article22_scope !== undefined) out.article22Scope = s.gdpr_article22_scope;
    if (s.allow_permanent_delete !== undefined) out.allowPermanentDelete = s.allow_permanent_delete;
  }
  return out;
}

/** A domain entry in canonical form; a glob keeps its wildcards and is folded label by label. */
function domainEntry(entry: string): string {
  if (!/[*?]/.test(entry)) return canonicalDomain(entry) || entry.toLowerCase();
  return entry
    .normalize('NFKC')
    .toLowerCase()
    .replace(/\.+$/, '')
    .split('.')
    .map((label) => (/[*?]/.test(label) ? label : canonicalDomain(label) || label))
    .join('.');
}
