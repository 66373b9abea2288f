/** Held mailbox actions (tag_email) as reviewers and agents see them: which email, which flags, which folder. */
import type { MailboxAction, OutboundMessage } from '../store/store.js';
import type { ActionStatus } from '../values.js';
import { cleanLine } from '../text/invisible.js';
import { type MessageDetail, toMessageDetail } from './records.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export type ActionView = {
  action_id: string;
  mailbox: string;
  email_id: string;
  add_flags: string[];
  remove_flags: string[];
  move_to: string | null;
  /** delete_email: to the Trash, or permanently; null for a flag or folder change. */
  delete: 'trash' | 'permanent' | null;
  status: ActionStatus;
  created_by: string;
  created_at: string;
  expires_at: string | null;
  reason: string;
  applied_at: string | null;
  result: Record<string, unknown> | null;
};

export function toActionView(a: MailboxAction): ActionView {
  return {
    action_id: a.action_id,
    mailbox: a.mailbox,
    email_id: a.email_id,
    add_flags: a.action.add_flags.map(cleanLine),
    remove_flags: a.action.remove_flags.map(cleanLine),
    move_to: a.action.move_to === null ? null : cleanLine(a.action.move_to),
    delete: a.action.delete ?? null,
    status: a.status,
    created_by: a.created_by,
    created_at: iso(a.created_at)!,
    expires_at: iso(a.expires_at),
    reason: a.gate_reason,
    applied_at: iso(a.applied_at),
    result: a.result,
  };
}

/** The answer of a review tool (decide, approve, reject, cancel, get): a message's fields, or a held action's. */
export type ReviewDetail = (MessageDetail & { type: 'email' }) | ReviewActionDetail;

export type ReviewActionDetail = Pick<
  MessageDetail,
  'message_id' | 'mailbox' | 'created_at' | 'expires_at' | 'decided_at' | 'decided_by' | 'decision_reason' | 'attempts' | 'last_error'
> & { type: 'action'; status: ActionStatus; action: ActionView };

export function toActionDetail(a: MailboxAction): ReviewActionDetail {
  return {
    type: 'action',
    message_id: a.action_id,
    mailbox: a.mailbox,
    status: a.status,
    created_at: iso(a.created_at)!,
    expires_at: iso(a.expires_at),
    decided_at: iso(a.decided_at),
    decided_by: a.decided_by,
    decision_reason: a.decision_reason,
    attempts: a.attempts,
    last_error: a.last_error,
    action: toActionView(a),
  };
}

export function toReviewDetail(x: OutboundMessage | MailboxAction): ReviewDetail {
  return 'action_id' in x ? toActionDetail(x) : { type: 'email', ...toMessageDetail(x) };
}
