/**
 * The policy engine: pure rules evaluated before the oversight mode. Each rule returns its hits; blocks win
 * over holds, and the first block (in the order below: the cheapest for the agent to fix first) names the
 * decision's reason code. Every hit is kept on the message, so reviewers and auditors see all of them.
 */
import { article22 } from './article22.js';
import { attachmentLimits, maxRecipients } from './limits.js';
import { newExternalDomain, newRecipient, secrets } from './content-holds.js';
import { domains } from './domains.js';
import { duplicate } from './duplicate.js';
import { rateLimits } from './rate-limits.js';
import type { EffectivePolicy } from './settings.js';
import { suppression } from './suppression.js';
import type { Draft, PolicyFacts, PolicyHit, PolicyRule } from './types.js';

export { automatedDecisionOf } from './article22.js';
export * from './settings.js';
export * from './types.js';

const RULES: readonly PolicyRule[] = [
  suppression,
  domains,
  maxRecipients,
  attachmentLimits,
  duplicate,
  rateLimits,
  article22,
  newRecipient,
  newExternalDomain,
  secrets,
];

export function checkPolicy(p: EffectivePolicy, draft: Draft, facts: PolicyFacts): PolicyHit[] {
  const hits = RULES.flatMap((rule) => rule(p, draft, facts));
  return [...hits.filter((h) => h.effect === 'block'), ...hits.filter((h) => h.effect === 'hold')];
}
