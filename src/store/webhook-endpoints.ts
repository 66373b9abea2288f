/**
 * Webhook endpoints: added by operators or synced from the config file, each change audited. A removed
 * endpoint is disabled, never deleted, so its delivery history stays. Secrets are read here for signing and
 * never leave through an audit event or a listing (WebhookEndpoint has no secret field).
 */
import { MailgateError } from '../errors.js';
import { newWebhookEndpointId } from '../ids.js';
import type { WebhookEventType } from '../webhooks/events.js';
import { displayUrl } from '../webhooks/schema.js';
import { appendAudit } from './audit.js';
import type { SqlTx } from './sql/types.js';
import { failPendingOf } from './webhooks.js';

export type WebhookSource = 'config' | 'operator';

export interface NewWebhookEndpoint {
  url: string;
  /** One or more `whsec_` secrets; several sign each delivery several times (rotation). */
  secrets: string[];
  events: WebhookEventType[] | null;
  mailbox: string | null;
  /** May point at loopback and private networks; false (the default) refuses them at delivery too. */
  allow_private_network?: boolean | undefined;
}

export interface WebhookEndpoint {
  endpoint_id: string;
  url: string;
  events: WebhookEventType[] | null;
  mailbox: string | null;
  source: WebhookSource;
  allow_private_network: boolean;
  created_at: number;
  disabled_at: number | null;
  /** Deliveries by status, and the last failure (HTTP status and a short error; never a response body). */
  pending: number;
  delivered: number;
  failed: number;
  last_status: number | null;
  last_error: string | null;
}

export interface WebhookSyncResult {
  added: string[];
  updated: string[];
  removed: string[];
}

type Row = Record<string, unknown>;

const LIST_SQL = `SELECT ep.endpoint_id, ep.url, ep.events, ep.mailbox, ep.source, ep.allow_private_network, ep.created_at, ep.disabled_at,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = ep.endpoint_id AND d.status = 'pending') AS pending,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = ep.endpoint_id AND d.status = 'delivered') AS delivered,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = ep.endpoint_id AND d.status = 'failed') AS failed,
    (SELECT d.last_status FROM webhook_deliveries d WHERE d.endpoint_id = ep.endpoint_id AND d.last_error IS NOT NULL
       ORDER BY d.next_attempt_at DESC LIMIT 1) AS last_status,
    (SELECT d.last_error FROM webhook_deliveries d WHERE d.endpoint_id = ep.endpoint_id AND d.last_error IS NOT NULL
       ORDER BY d.next_attempt_at DESC LIMIT 1) AS last_error
  FROM webhook_endpoints ep`;

const fromRow = (r: Row): WebhookEndpoint => ({
  ...(r as unknown as WebhookEndpoint),
  events: r.events === null ? null : (JSON.parse(String(r.events)) as WebhookEventType[]),
  allow_private_network: r.allow_private_network === 1,
});

export async function listEndpoints(q: SqlTx, query: { include_disabled: boolean }): Promise<WebhookEndpoint[]> {
  const where = query.include_disabled ? '' : 'WHERE ep.disabled_at IS NULL';
  return (await q.all<Row>(`${LIST_SQL} ${where} ORDER BY ep.created_at, ep.endpoint_id`)).map(fromRow);
}

async function getEndpoint(q: SqlTx, id: string): Promise<WebhookEndpoint | undefined> {
  const r = await q.get<Row>(`${LIST_SQL} WHERE ep.endpoint_id = ?`, [id]);
  return r && fromRow(r);
}

/** What the audit log says about an endpoint: where it points and what it gets; never its secret. */
const auditDetail = (id: string, ep: Omit<NewWebhookEndpoint, 'secrets'>, source: WebhookSource) => ({
  endpoint_id: id,
  url: displayUrl(ep.url),
  events: ep.events,
  mailbox: ep.mailbox,
  source,
  allow_private_network: ep.allow_private_network === true,
});

export async function addEndpointInTx(q: SqlTx, ep: NewWebhookEndpoint, source: WebhookSource, actor: string, now: number): Promise<WebhookEndpoint> {
  const id = newWebhookEndpointId();
  await q.run(
    `INSERT INTO webhook_endpoints (endpoint_id, url, secret, events, mailbox, source, created_at, allow_private_network)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [id, ep.url, ep.secrets.join(' '), ep.events && JSON.stringify(ep.events), ep.mailbox, source, now, ep.allow_private_network ? 1 : 0],
  );
  await appendAudit(q, { actor, action: 'webhook.added', mailbox: ep.mailbox, detail: auditDetail(id, ep, source) }, now);
  return (await getEndpoint(q, id))!;
}

export async function removeEndpointInTx(
  q: SqlTx,
  id: string,
  opts: { actor: string; reason: string | null; allowConfig: boolean },
  now: number,
): Promise<WebhookEndpoint> {
  const ep = await getEndpoint(q, id);
  if (!ep || ep.disabled_at !== null) {
    const known = (await listEndpoints(q, { include_disabled: false })).map((e) => e.endpoint_id);
    throw new MailgateError('INVALID_INPUT', `no active webhook endpoint '${id}'; active: ${known.join(', ') || '(none)'}`, { field: 'id' });
  }
  if (ep.source === 'config' && !opts.allowConfig) {
    throw new MailgateError('INVALID_INPUT', `${id} comes from the config file; remove it there and restart mailgate`, { field: 'id' });
  }
  await q.run('UPDATE webhook_endpoints SET disabled_at = ? WHERE endpoint_id = ?', [now, id]);
  const dropped = await failPendingOf(q, id, 'endpoint removed before delivery', now);
  await appendAudit(
    q,
    {
      actor: opts.actor,
      action: 'webhook.removed',
      mailbox: ep.mailbox,
      detail: { ...auditDetail(id, ep, ep.source), reason: opts.reason, pending_dropped: dropped },
    },
    now,
  );
  return (await getEndpoint(q, id))!;
}

/**
 * Brings the config file's endpoints into the table. An endpoint is identified by its URL, mailbox filter,
 * event filter and allow_private_network (so allowing private networks shows in the audit log as a new
 * endpoint, never as a silent change): a new one is added and one no longer in the file is disabled (both audited), so the audit log
 * shows every change of what is sent where. A changed secret is updated in place: pending deliveries are then
 * signed with the new one. Operator endpoints are untouched.
 */
export async function syncConfigInTx(q: SqlTx, wanted: readonly NewWebhookEndpoint[], actor: string, now: number): Promise<WebhookSyncResult> {
  const result: WebhookSyncResult = { added: [], updated: [], removed: [] };
  const current = await q.all<{
    endpoint_id: string;
    url: string;
    secret: string;
    events: string | null;
    mailbox: string | null;
    allow_private_network: number;
  }>("SELECT endpoint_id, url, secret, events, mailbox, allow_private_network FROM webhook_endpoints WHERE source = 'config' AND disabled_at IS NULL");
  const keep = new Set<string>();
  for (const w of wanted) {
    const events = w.events && JSON.stringify(w.events);
    const allow = w.allow_private_network ? 1 : 0;
    const match = current.find(
      (c) => c.url === w.url && c.mailbox === w.mailbox && c.events === events && c.allow_private_network === allow && !keep.has(c.endpoint_id),
    );
    if (!match) {
      result.added.push((await addEndpointInTx(q, w, 'config', actor, now)).endpoint_id);
      continue;
    }
    keep.add(match.endpoint_id);
    if (match.secret !== w.secrets.join(' ')) {
      await q.run('UPDATE webhook_endpoints SET secret = ? WHERE endpoint_id = ?', [w.secrets.join(' '), match.endpoint_id]);
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
export async function disableIfDead(q: SqlTx, endpointId: string, now: number): Promise<boolean> {
  const ep = await getEndpoint(q, endpointId);
  if (!ep || ep.disabled_at !== null || now - ep.created_at < AUTO_DISABLE_AFTER_MS) return false;
  const lastOk =
    (await q.value<number | null>("SELECT max(delivered_at) FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'delivered'", [endpointId])) ?? null;
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
