/** The Art. 22 fields of send_email, reply_email and forward_email folded into the draft's metadata. */
import { markDecision } from '../src/services/decision-mark.js';

export function withMark<
  T extends { metadata?: Record<string, unknown> | undefined; automated_decision?: boolean | undefined; decision_type?: string | undefined },
>(args: T): Omit<T, 'automated_decision' | 'decision_type'> {
  const { automated_decision, decision_type, ...rest } = args;
  return { ...rest, metadata: markDecision(rest.metadata, automated_decision, decision_type) };
}
