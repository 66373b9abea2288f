/** The policy rules' vocabulary: what a draft looks like to them, what the store tells them, what they find. */
import type { GateCode } from '../../values.js';
import type { EffectivePolicy } from './settings.js';

export interface DraftAttachment {
  filename: string;
  content_type: string;
  size: number;
  /**
   * Kinds of secret found in the attachment's bytes. Scanning megabytes takes tens of milliseconds, so the
   * caller does it before the store's write transaction (with findSecrets) rather than the rule inside it.
   */
  secrets?: readonly string[] | undefined;
}

/** A send or reply as the policy rules see it. */
export interface Draft {
  /** The sending mailbox's own address (its domain is internal). */
  mailbox: string;
  /** Every recipient (to, cc and bcc), canonical lower case. */
  recipients: readonly string[];
  subject: string;
  text: string | null;
  html: string | null;
  attachments: readonly DraftAttachment[];
  /** For a reply: everyone already in the thread (the parent's From, To and Cc). Null for a new message. */
  threadParticipants: readonly string[] | null;
  /** The draft states a decision about a person made by automated means (GDPR Art. 22): its kind; else null. */
  automatedDecision?: { type: string } | null;
}

export interface WindowCount {
  count: number;
  /** created_at of the oldest counted message, so a refusal can say when the window frees up. */
  oldest: number | null;
}

/** What the store knows, looked up inside the submit transaction with the effective policy's windows. */
export interface PolicyFacts {
  now: number;
  duplicateOf: { message_id: string; created_at: number; status: string } | null;
  mailboxCounts: { minute: WindowCount; hour: WindowCount; day: WindowCount };
  recipientCounts: ReadonlyMap<string, { hour: WindowCount; day: WindowCount }>;
  /** Recipient -> the suppression entry that covers it. */
  suppressed: ReadonlyMap<string, { kind: 'address' | 'domain'; value: string; reason: string | null }>;
  /** Canonical domains this mailbox has written to before. */
  knownDomains: ReadonlySet<string>;
  /** Messages of this mailbox waiting for a decision, and the soonest of their expiries (when one frees up). */
  held: { count: number; next_expiry: number | null };
}

export interface PolicyHit {
  /** The setting that fired, e.g. `rate_limits.per_minute`, `suppression`, `content_holds.secrets`. */
  rule: string;
  code: GateCode;
  effect: 'block' | 'hold';
  /** One sentence the agent (or reviewer) can act on. */
  reason: string;
  details?: Record<string, unknown>;
}

export type PolicyRule = (p: EffectivePolicy, draft: Draft, facts: PolicyFacts) => PolicyHit[];

export const EMPTY_FACTS = (now: number): PolicyFacts => ({
  now,
  duplicateOf: null,
  mailboxCounts: { minute: { count: 0, oldest: null }, hour: { count: 0, oldest: null }, day: { count: 0, oldest: null } },
  recipientCounts: new Map(),
  suppressed: new Map(),
  knownDomains: new Set(),
  held: { count: 0, next_expiry: null },
});
