/**
 * What a webhook delivery's outcome changes beyond the delivery itself: a delivery that gave up may switch its
 * endpoint off, when nothing has reached that endpoint for a long time (webhook-endpoints.ts disableIfDead).
 */
import type { SqlTx } from '../store/sql/types.js';
import * as endpoints from '../store/webhook-endpoints.js';
import * as webhooks from '../store/webhooks.js';

/** Records the attempt if `owner` still holds the lease; false when it was lost (and then nothing else changes). */
export async function recordWebhookAttemptInTx(
  q: SqlTx,
  d: { event_id: string; endpoint_id: string },
  owner: string,
  outcome: webhooks.WebhookAttemptOutcome,
  now: number,
): Promise<boolean> {
  const recorded = await webhooks.recordAttempt(q, d, owner, outcome, now);
  if (recorded && outcome.kind === 'failed') await endpoints.disableIfDead(q, d.endpoint_id, now);
  return recorded;
}
