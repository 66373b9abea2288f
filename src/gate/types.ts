/** The gate's vocabulary: what is asked (Action), what is known (Facts), what is decided (Decision). */
import type { OversightMode } from '../values.js';
import type { AutoApproveRule } from './rules/index.js';

export interface MailboxPolicy {
  mode: OversightMode;
  /** Ordered; the first that matches auto-approves a send in a gated mode. */
  rules: readonly AutoApproveRule[];
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
    }
  | { kind: 'write'; operation: 'tag' | 'move' | 'delete' | 'contacts' };

export interface Facts {
  /** Addresses this mailbox has corresponded with (received from, or sent to). */
  knownContacts: ReadonlySet<string>;
  /** Named contact lists, canonical lower-case addresses. */
  contactLists: ReadonlyMap<string, ReadonlySet<string>>;
}

export type ReasonCode =
  | 'mode_allows'
  | 'auto_approved'
  | 'mode_requires_approval'
  | 'require_approval'
  | 'action_blocked';

export type Decision =
  | { outcome: 'execute'; code: 'mode_allows' | 'auto_approved'; reason: string; notify: boolean; rule?: string }
  | { outcome: 'hold'; code: 'mode_requires_approval' | 'require_approval'; reason: string }
  | { outcome: 'block'; code: 'action_blocked'; reason: string };
