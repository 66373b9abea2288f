/**
 * The GDPR Art. 22 mark on a draft: send_email, reply_email and forward_email take `automated_decision` and
 * `decision_type` and keep them in the message's metadata, where the gate (src/gate/policy/article22.ts), the
 * reviewer, webhooks and `audit export --automated-decisions` all read them.
 */
import { invalid } from '../errors.js';

export function markDecision(
  metadata: Record<string, unknown> | undefined,
  automated: boolean | undefined,
  type: string | undefined,
): Record<string, unknown> | undefined {
  if (automated === undefined && type === undefined) return metadata;
  if (type !== undefined && automated !== true) {
    throw invalid('decision_type', 'is for a draft that states an automated decision about a person: add automated_decision: true, or drop decision_type');
  }
  if (automated && type === undefined) {
    throw invalid('decision_type', 'say what kind of decision this is: application_outcome, credit, account_action, insurance_claim, employment or other');
  }
  return { ...metadata, automated_decision: automated === true, ...(type === undefined ? {} : { decision_type: type }) };
}
