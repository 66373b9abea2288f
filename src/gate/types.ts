/** The gate's vocabulary: what is asked (Action), what is known (Facts), what is decided (Decision). */
import type { GateCode, OversightMode } from '../values.js';
import type { DraftAttachment, EffectivePolicy, PolicyFacts, PolicyHit } from './policy/index.js';
import type { AutoApproveRule } from './rules/index.js';

export interface MailboxPolicy {
  mode: OversightMode;
  /** Ordered; the first that matches auto-approves a send in a gated mode. */
  rules: readonly AutoApproveRule[];
  /** The resolved policy settings (src/gate/policy); absent means the defaults. */
  limits?: EffectivePolicy;
}

export interface GlobalPolicy {
  /** `require_approval: true` holds every send whatever the mailbox mode. */
  requireApproval: boolean;
}

export type Action =
  | { kind: 'read' }
  | {
      kind: 'send';
      /** Every recipient (to, cc and bcc), canonical lower case. */
      recipients: readonly string[];
      subject: string;
      /** True when the send answers an inbound email (reply_email). */
      isReply: boolean;
      /** What the policy rules read besides recipients and subject (absent fields are empty). */
      mailbox?: string;
      text?: string | null;
      html?: string | null;
      attachments?: readonly DraftAttachment[];
      /** For a reply, everyone already in the thread. */
      threadParticipants?: readonly string[] | null;
      /** Marked by the agent as an automated decision about a person (GDPR Art. 22), with its kind. */
      automatedDecision?: { type: string } | null;
    }
  | { kind: 'write'; operation: 'tag' | 'move' | 'delete' | 'contacts' };

export interface Facts {
  /** Addresses this mailbox has corresponded with (received from, or sent to). */
  knownContacts: ReadonlySet<string>;
  /** Named contact lists, canonical lower-case addresses. */
  contactLists: ReadonlyMap<string, ReadonlySet<string>>;
  /** What the policy rules need from the store; absent means nothing is known (no counts, no suppressions). */
  policy?: PolicyFacts;
}

/** `hits` lists every policy rule the draft hit (present only when there were some). */
export type Decision =
  | { outcome: 'execute'; code: 'mode_allows' | 'auto_approved'; reason: string; notify: boolean; rule?: string; hits?: PolicyHit[] }
  | { outcome: 'hold'; code: GateCode; reason: string; hits?: PolicyHit[] }
  | { outcome: 'block'; code: GateCode; reason: string; hits?: PolicyHit[] };
