/**
 * GDPR Art. 22: a person has the right not to be subject to a decision based solely on automated processing
 * that significantly affects them (an application outcome, credit, an account action, an insurance claim), and
 * EU AI Act Art. 14 asks for effective human oversight of such systems. On a mailbox in Art. 22 scope, a draft
 * the agent marks as such a decision is held for a person in every mode, past every auto-approve rule, like the
 * content holds: the record then shows a human reviewed it before it went out.
 *
 * The marking is the agent's statement; the scope is the operator's (policy `gdpr_article22_scope`, which only
 * an operator can set, and turning it off counts as loosening). An agent that leaves the mark off is the
 * operator's reason to choose gated_send for such mailboxes: the gate cannot know what a letter decides.
 */
import type { PolicyRule } from './types.js';

/** The Art. 22 mark a draft's metadata carries (`automated_decision: true`, `decision_type`), or null. */
export function automatedDecisionOf(metadata: Readonly<Record<string, unknown>> | null | undefined): { type: string } | null {
  if (metadata?.automated_decision !== true) return null;
  return { type: typeof metadata.decision_type === 'string' ? metadata.decision_type : 'other' };
}

export const article22: PolicyRule = (p, draft) =>
  !p.article22Scope || !draft.automatedDecision
    ? []
    : [
        {
          rule: 'gdpr_article22_scope',
          code: 'hold_automated_decision',
          effect: 'hold',
          reason: `an automated decision about a person (${draft.automatedDecision.type}) on a mailbox in GDPR Art. 22 scope: a person must review it before it is sent`,
          details: { decision_type: draft.automatedDecision.type },
        },
      ];
