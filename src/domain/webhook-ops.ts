/**
 * The webhook endpoints' rules: what removing one drops, how the config file's list is brought into the table,
 * and what a delivery's outcome changes beyond the delivery itself (a delivery that gave up may switch its
 * endpoint off, when nothing has reached that endpoint for a long time: disableIfDead).
 */
import { MailgateError } from '../errors.js';
import { appendAudit } from '../store/audit.js';
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
  if (recorded && outcome.kind === 'failed') await disableIfDead(q, d.endpoint_id, now);
  return recorded;
}

export async function removeEndpointInTx(
  q: SqlTx,
  id: string,
  opts: { actor: string; reason: string | null; allowConfig: boolean },
  now: number,
): Promise<endpoints.WebhookEndpoint> {
  const ep = await endpoints.getEndpoint(q, id);
  if (!ep || ep.disabled_at !== null) {
    const known = (await endpoints.listEndpoints(q, { include_disabled: false })).map((e) => e.endpoint_id);
    throw new MailgateError('INVALID_INPUT', `no active webhook endpoint '${id}'; active: ${known.join(', ') || '(none)'}`, { field: 'id' });
  }
  if (ep.source === 'config' && !opts.allowConfig) {
    throw new MailgateError('INVALID_INPUT', `${id} comes from the config file; remove it there and restart mailgate`, { field: 'id' });
  }
  await endpoints.disableEndpoint(q, id, now);
  const dropped = await webhooks.failPendingOf(q, id, 'endpoint removed before delivery', now);
  await appendAudit(
    q,
    {
      actor: opts.actor,
      action: 'webhook.removed',
      mailbox: ep.mailbox,
      detail: { ...endpoints.auditDetail(id, ep, ep.source), reason: opts.reason, pending_dropped: dropped },
    },
    now,
  );
  return (await endpoints.getEndpoint(q, id))!;
}

/**
 * Brings the config file's endpoints into the table. An endpoint is identified by its URL, mailbox filter,
 * event filter and allow_private_network (so allowing private networks shows in the audit log as a new
 * endpoint, never as a silent change): a new one is added and one no longer in the file is disabled (both audited), so the audit log
 * shows every change of what is sent where. A changed secret is updated in place: pending deliveries are then
 * signed with the new one. Operator endpoints are untouched.
 */
export async function syncConfigInTx(
  q: SqlTx,
  wanted: readonly endpoints.NewWebhookEndpoint[],
  actor: string,
  now: number,
): Promise<endpoints.WebhookSyncResult> {
  const result: endpoints.WebhookSyncResult = { added: [], updated: [], removed: [] };
  const current = await endpoints.activeConfigEndpoints(q);
  const keep = new Set<string>();
  for (const w of wanted) {
    const events = w.events && JSON.stringify(w.events);
    const allow = w.allow_private_network ? 1 : 0;
    const match = current.find(
      (c) => c.url === w.url && c.mailbox === w.mailbox && c.events === events && c.allow_private_network === allow && !keep.has(c.endpoint_id),
    );
    if (!match) {
      result.added.push((await endpoints.addEndpointInTx(q, w, 'config', actor, now)).endpoint_id);
      continue;
    }
    keep.add(match.endpoint_id);
    if (match.secret !== w.secrets.join(' ')) {
      await endpoints.setEndpointSecret(q, match.endpoint_id, w.secrets);
      result.updated.push(match.endpoint_id);
    }
  }
  for (const c of current.filter((x) => !keep.has(x.endpoint_id))) {
    await removeEndpointInTx(q, c.endpoint_id, { actor, reason: 'no longer in the config file', allowConfig: true }, now);
    result.removed.push(c.endpoint_id);
  }
  return result;
}

/** An endpoint that has taken nothing for this long, while deliveries to it kept failing, is switched off. */
export const AUTO_DISABLE_AFTER_MS = 5 * 24 * 3600 * 1000;

/**
 * Called when a delivery to the endpoint has given up (after about a day of retries): if nothing reached it for
 * AUTO_DISABLE_AFTER_MS and it is at least that old, it is disabled (audited as webhook.removed with the
 * reason), so a dead receiver does not keep a growing backlog retrying forever. Reliability G8. A config-file
 * endpoint comes back at the next start, when the file is applied again: that is the operator's say.
 */
async function disableIfDead(q: SqlTx, endpointId: string, now: number): Promise<boolean> {
  const ep = await endpoints.getEndpoint(q, endpointId);
  if (!ep || ep.disabled_at !== null || now - ep.created_at < AUTO_DISABLE_AFTER_MS) return false;
  const lastOk = await endpoints.lastDeliveredAt(q, endpointId);
  if (lastOk !== null && now - lastOk < AUTO_DISABLE_AFTER_MS) return false;
  const days = AUTO_DISABLE_AFTER_MS / 86_400_000;
  await removeEndpointInTx(
    q,
    endpointId,
    { actor: 'system:webhooks', reason: `auto-disabled: nothing delivered for ${days} days while deliveries kept failing`, allowConfig: true },
    now,
  );
  return true;
}
