/**
 * Webhook endpoints: added by operators or synced from the config file, each change audited. A removed
 * endpoint is disabled, never deleted, so its delivery history stays. Secrets are read here for signing and
 * never leave through an audit event or a listing (WebhookEndpoint has no secret field).
 */
import { newWebhookEndpointId } from '../ids.js';
import type { SubscribableEventType } from '../webhooks/events.js';
import { displayUrl } from '../webhooks/schema.js';
import { appendAudit } from './audit.js';
import type { SqlTx } from './sql/types.js';

export type WebhookSource = 'config' | 'operator';

export interface NewWebhookEndpoint {
  url: string;
  /** One or more `whsec_` secrets; several sign each delivery several times (rotation). */
  secrets: string[];
  events: SubscribableEventType[] | null;
  mailbox: string | null;
  /** May point at loopback and private networks; false (the default) refuses them at delivery too. */
  allow_private_network?: boolean | undefined;
}

export interface WebhookEndpoint {
  endpoint_id: string;
  url: string;
  events: SubscribableEventType[] | null;
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
  events: r.events === null ? null : (JSON.parse(String(r.events)) as SubscribableEventType[]),
  allow_private_network: r.allow_private_network === 1,
});

export async function listEndpoints(q: SqlTx, query: { include_disabled: boolean }): Promise<WebhookEndpoint[]> {
  const where = query.include_disabled ? '' : 'WHERE ep.disabled_at IS NULL';
  return (await q.all<Row>(`${LIST_SQL} ${where} ORDER BY ep.created_at, ep.endpoint_id`)).map(fromRow);
}

export async function getEndpoint(q: SqlTx, id: string): Promise<WebhookEndpoint | undefined> {
  const r = await q.get<Row>(`${LIST_SQL} WHERE ep.endpoint_id = ?`, [id]);
  return r && fromRow(r);
}

/** What the audit log says about an endpoint: where it points and what it gets; never its secret. */
export const auditDetail = (id: string, ep: Omit<NewWebhookEndpoint, 'secrets'>, source: WebhookSource) => ({
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

/** Disables an endpoint (its pending deliveries are the caller's to drop). */
export async function disableEndpoint(q: SqlTx, id: string, now: number): Promise<void> {
  await q.run('UPDATE webhook_endpoints SET disabled_at = ? WHERE endpoint_id = ?', [now, id]);
}

export async function setEndpointSecret(q: SqlTx, id: string, secrets: readonly string[]): Promise<void> {
  await q.run('UPDATE webhook_endpoints SET secret = ? WHERE endpoint_id = ?', [secrets.join(' '), id]);
}

/** The config file's enabled endpoints as stored (the secret as one space-separated string, events as JSON). */
export function activeConfigEndpoints(q: SqlTx) {
  return q.all<{ endpoint_id: string; url: string; secret: string; events: string | null; mailbox: string | null; allow_private_network: number }>(
    "SELECT endpoint_id, url, secret, events, mailbox, allow_private_network FROM webhook_endpoints WHERE source = 'config' AND disabled_at IS NULL",
  );
}

/** When a delivery to the endpoint last succeeded, or null. */
export async function lastDeliveredAt(q: SqlTx, endpointId: string): Promise<number | null> {
  return (
    (await q.value<number | null>("SELECT max(delivered_at) FROM webhook_deliveries WHERE endpoint_id = ? AND status = 'delivered'", [endpointId])) ?? null
  );
}
