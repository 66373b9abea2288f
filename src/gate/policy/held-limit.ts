/**
 * The cap on held mail. It depends on the gate's final decision (only a draft that would be held counts against
 * it), so it is applied after the mode and the other rules, not among them.
 */
import type { Decision } from '../types.js';
import type { EffectivePolicy } from './settings.js';
import type { PolicyFacts, PolicyHit } from './types.js';

/** The refusal for a draft that would be held while the mailbox already has `max_pending` held, or null. */
function heldLimit(p: EffectivePolicy, f: PolicyFacts): PolicyHit | null {
  const { count, next_expiry } = f.held;
  if (count < p.maxPending) return null;
  // The soonest expiry frees a place for certain; a reviewer's decision may free one sooner.
  const retryAfter = next_expiry !== null ? new Date(next_expiry).toISOString() : null;
  return {
    rule: 'max_pending',
    code: 'held_limit',
    effect: 'block',
    reason:
      `this mailbox already has ${count} messages waiting for a human decision (max_pending = ${p.maxPending}), so this one was not queued; ` +
      `do not draft more: wait for reviewers to decide (mail_wait on a message you sent), then retry${retryAfter ? `, at the latest after ${retryAfter} when the oldest expires` : ''}`,
    details: { limit: p.maxPending, count, ...(retryAfter ? { retry_after: retryAfter } : {}) },
  };
}

/** A hold turned into a held_limit block when the queue is full; any other decision unchanged. */
export function capHeld(d: Decision, p: EffectivePolicy, f: PolicyFacts | undefined): Decision {
  if (d.outcome !== 'hold' || !f) return d;
  const hit = heldLimit(p, f);
  // First among the hits: the refusal's details (retry_after) are what the agent is shown.
  return hit ? { outcome: 'block', code: hit.code, reason: hit.reason, hits: [hit, ...(d.hits ?? [])] } : d;
}
