/**
 * The gate: one pure function from (mailbox policy, global policy, action, facts) to a decision.
 * No I/O, no clock, no ids. The store calls it inside the same transaction that records its outcome,
 * so the facts it sees are the facts the decision is written against.
 */
import { checkPolicy, EMPTY_FACTS, POLICY_DEFAULTS, type PolicyHit } from './policy/index.js';
import { capHeld } from './policy/held-limit.js';
import { describeRule, ruleMatches } from './rules/index.js';
import type { Action, Decision, Facts, GlobalPolicy, MailboxPolicy } from './types.js';

/**
 * Order: reads pass; read_only blocks; writes follow the mode; for sends, policy blocks, then the global
 * require_approval switch, then content holds (which hold in every mode, past any auto-approve rule), then
 * the mode and its auto-approve rules; last, a hold is refused when the mailbox's queue is full (max_pending).
 */
export function evaluate(policy: MailboxPolicy, global: GlobalPolicy, action: Action, facts: Facts): Decision {
  const decision = evaluateAction(policy, global, action, facts);
  // Last: whether the queue is full matters only for a draft that everything else would hold.
  return action.kind === 'send' ? capHeld(decision, policy.limits ?? POLICY_DEFAULTS, facts.policy) : decision;
}

function evaluateAction(policy: MailboxPolicy, global: GlobalPolicy, action: Action, facts: Facts): Decision {
  const decision = evaluateMode(policy, global, action, facts);
  if (action.kind !== 'send' || decision.outcome === 'block') return decision;
  const hits = checkPolicy(
    policy.limits ?? POLICY_DEFAULTS,
    {
      mailbox: action.mailbox ?? '',
      recipients: action.recipients,
      subject: action.subject,
      text: action.text ?? null,
      html: action.html ?? null,
      attachments: action.attachments ?? [],
      threadParticipants: action.threadParticipants ?? null,
      automatedDecision: action.automatedDecision ?? null,
    },
    facts.policy ?? EMPTY_FACTS(0),
  );
  if (hits.length === 0) return decision;
  const first = hits[0]!;
  if (first.effect === 'block') return { outcome: 'block', code: first.code, reason: first.reason, hits };
  if (decision.code === 'require_approval') return { ...decision, hits };
  return { outcome: 'hold', code: first.code, reason: holdReason(first, hits), hits };
}

function holdReason(first: PolicyHit, hits: readonly PolicyHit[]): string {
  return hits.length === 1 ? first.reason : `${first.reason} (and ${hits.length - 1} more policy hold${hits.length > 2 ? 's' : ''})`;
}

function evaluateMode(policy: MailboxPolicy, global: GlobalPolicy, action: Action, facts: Facts): Decision {
  if (action.kind === 'read') {
    return { outcome: 'execute', code: 'mode_allows', reason: `reads are allowed in ${policy.mode} mode`, notify: false };
  }
  if (policy.mode === 'read_only') {
    const what = action.kind === 'send' ? 'sending' : `${action.operation}`;
    return {
      outcome: 'block',
      code: 'action_blocked',
      reason: `mailbox is in read_only mode: ${what} is not allowed; an operator can change the mode with update_mailbox`,
    };
  }
  if (action.kind === 'write') {
    if (policy.mode === 'gated_all') {
      return { outcome: 'hold', code: 'mode_requires_approval', reason: `gated_all mode holds ${action.operation} for approval` };
    }
    return { outcome: 'execute', code: 'mode_allows', reason: `${action.operation} is allowed in ${policy.mode} mode`, notify: false };
  }
  // Sends and replies. The global switch wins over every mode and every rule.
  if (global.requireApproval) {
    return { outcome: 'hold', code: 'require_approval', reason: 'require_approval is set: every send is held for a human' };
  }
  if (policy.mode === 'autonomous') {
    return { outcome: 'execute', code: 'mode_allows', reason: 'autonomous mode sends at once', notify: false };
  }
  if (policy.mode === 'monitored') {
    return { outcome: 'execute', code: 'mode_allows', reason: 'monitored mode sends at once and notifies', notify: true };
  }
  for (const rule of policy.rules) {
    if (ruleMatches(rule, action, facts)) {
      const label = describeRule(rule);
      return { outcome: 'execute', code: 'auto_approved', reason: `auto-approved by rule ${label}`, notify: false, rule: label };
    }
  }
  return { outcome: 'hold', code: 'mode_requires_approval', reason: `${policy.mode} mode holds sends for approval` };
}
