/**
 * The webhook outbox: events are written in the transaction of the audit event they report (so an event is
 * sent if and only if the state change committed), then claimed with a lease and delivered by
 * src/webhooks/dispatcher.ts outside any transaction, like mail.
 *
 * The webhook event id is the audit event's id (`evt_...`): it is already unique and stable, it is the
 * `webhook-id` header on every retry, and a receiver can look the event up in `mailgate audit`.
 */
import { aliasOf, asSubscribed, buildPayload, webhookTypeFor } from '../webhooks/events.js';
import type { AuditEvent } from './audit.js';
import { getMessageRow } from './messages.js';
import type { SqlTx } from './sql/types.js';

/** A delivery claimed for one attempt: everything the dispatcher needs, including the signing secrets. */
export interface DueWebhookDelivery {
  event_id: string;
  endpoint_id: string;
  type: string;
  url: string;
  secrets: string[];
  /** The JSON body exactly as it is signed and sent (the same bytes on every attempt). */
  payload: string;
  /** This attempt's number, from 1. */
  attempt: number;
  /** The endpoint may resolve to loopback and private addresses (src/webhooks/address.ts). */
  allow_private_network: boolean;
}

export type WebhookAttemptOutcome =
  | { kind: 'delivered'; status: number }
  | { kind: 'retry'; status: number | null; error: string; next_attempt_at: number }
  | { kind: 'failed'; status: number | null; error: string };

/** Keyed by the driver a store runs on (SqlTx.owner), so two stores in one process wake only their own dispatchers. */
const queuedListeners = new WeakMap<object, Set<() => void>>();

/**
 * Calls `listener` after each commit on this driver that queued webhook deliveries, so a dispatcher in
 * the same process sends at once instead of at its next poll. Returns the unsubscribe function.
 */
export function onQueued(owner: object, listener: () => void): () => void {
  let set = queuedListeners.get(owner);
  if (!set) queuedListeners.set(owner, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/**
 * Called at the end of appendAudit, inside its transaction: when the action is one webhooks report, writes
 * one webhook_events row and one pending delivery per enabled endpoint whose event and mailbox filters match.
 * Which actions are reported and what a payload says is src/webhooks/events.ts's (pure); this stores its answer.
 * No matching endpoint, no rows: without webhooks, a reported action costs one query of the (empty) endpoints table.
 */
export async function enqueueFromAudit(q: SqlTx, event: Omit<AuditEvent, 'seq' | 'prev_hash' | 'hash'>): Promise<void> {
  const type = webhookTypeFor(event.action);
  if (!type) return;
  const endpoints = await q.column<string>(
    `SELECT endpoint_id FROM webhook_endpoints
      WHERE disabled_at IS NULL AND (mailbox IS NULL OR mailbox = @mailbox)
        AND (events IS NULL OR @type IN ${q.dialect.jsonList('events')} OR @alias IN ${q.dialect.jsonList('events')})`,
    { mailbox: event.mailbox, type, alias: aliasOf(type) ?? type },
  );
  if (endpoints.length === 0) return;
  const message = event.message_id ? await getMessageRow(q, event.message_id) : undefined;
  const payload = JSON.stringify(buildPayload(type, event, message));
  await q.run('INSERT INTO webhook_events (event_id, type, mailbox, message_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
    event.event_id,
    type,
    event.mailbox,
    event.message_id,
    payload,
    event.at,
  ]);
  for (const id of endpoints) {
    await q.run(
      `INSERT INTO webhook_deliveries (event_id, endpoint_id, status, next_attempt_at, created_at)
                           VALUES (?, ?, 'pending', ?, ?)`,
      [event.event_id, id, event.at, event.at],
    );
  }
  // After the COMMIT, never after a rollback: a dispatcher woken earlier would find nothing (or not yet) to send.
  // The listeners are looked up then, so one subscribed while the transaction ran is woken too.
  q.afterCommit(() => {
    for (const l of queuedListeners.get(q.owner) ?? []) l();
  });
  // Dispatchers of other instances hear of it too (src/store/signals.ts), instead of at their next poll.
  q.notify('webhook', event.mailbox);
}

/**
 * Claims due deliveries for one attempt each: pending, due, to an enabled endpoint, and not leased by a live
 * claim. The UPDATE repeats the conditions (compare-and-set), so two processes never POST one delivery at once.
 * The inner SELECT reads webhook_deliveries alone (the endpoint check is a subquery), so on PostgreSQL its
 * FOR UPDATE SKIP LOCKED locks only the deliveries picked, not their events and endpoints: claims by other
 * instances skip those rows instead of waiting, and endpoint rows shared by many deliveries are not held.
 */
export async function claimDue(q: SqlTx, owner: string, now: number, leaseMs: number, limit: number): Promise<DueWebhookDelivery[]> {
  const rows = await q.all<{
    event_id: string;
    endpoint_id: string;
    attempts: number;
    type: string;
    payload: string;
    url: string;
    secret: string;
    allow_private_network: number;
    events: string | null;
  }>(
    `SELECT d.event_id, d.endpoint_id, d.attempts, ev.type, ev.payload, ep.url, ep.secret, ep.allow_private_network, ep.events
      FROM (SELECT w.event_id, w.endpoint_id, w.attempts, w.next_attempt_at, w.created_at FROM webhook_deliveries w
            WHERE w.status = 'pending' AND w.next_attempt_at <= @now AND (w.lease_until IS NULL OR w.lease_until < @now)
              AND EXISTS (SELECT 1 FROM webhook_endpoints x WHERE x.endpoint_id = w.endpoint_id AND x.disabled_at IS NULL)
            ORDER BY w.next_attempt_at, w.created_at LIMIT @limit ${q.dialect.skipLocked}) d
      JOIN webhook_events ev ON ev.event_id = d.event_id
      JOIN webhook_endpoints ep ON ep.endpoint_id = d.endpoint_id
      ORDER BY d.next_attempt_at, d.created_at`,
    { now, limit },
  );
  const out: DueWebhookDelivery[] = [];
  for (const r of rows) {
    const claimed = await q.run(
      `UPDATE webhook_deliveries SET lease_owner = @owner, lease_until = @until, attempts = attempts + 1
      WHERE event_id = @event_id AND endpoint_id = @endpoint_id AND status = 'pending'
        AND (lease_until IS NULL OR lease_until < @now)`,
      { owner, until: now + leaseMs, now, event_id: r.event_id, endpoint_id: r.endpoint_id },
    );
    if (claimed.changes !== 1) continue;
    // An endpoint that subscribed by another system's name for the event gets it under that name.
    const sent = asSubscribed(r.type, r.payload, r.events === null ? null : (JSON.parse(r.events) as string[]));
    out.push({
      event_id: r.event_id,
      endpoint_id: r.endpoint_id,
      type: sent.type,
      url: r.url,
      secrets: r.secret.split(' '),
      payload: sent.payload,
      attempt: r.attempts + 1,
      allow_private_network: r.allow_private_network === 1,
    });
  }
  return out;
}

/** Records one attempt's outcome, only if `owner` still holds the lease. Returns whether it did. */
export async function recordAttempt(
  q: SqlTx,
  d: { event_id: string; endpoint_id: string },
  owner: string,
  o: WebhookAttemptOutcome,
  now: number,
): Promise<boolean> {
  const status = o.kind === 'retry' ? 'pending' : o.kind;
  const info = await q.run(
    `UPDATE webhook_deliveries SET status = @status, lease_owner = NULL, lease_until = NULL,
        last_status = @last_status, last_error = @last_error, delivered_at = @delivered_at,
        next_attempt_at = @next_attempt_at
      WHERE event_id = @event_id AND endpoint_id = @endpoint_id AND status = 'pending' AND lease_owner = @owner`,
    {
      status,
      owner,
      event_id: d.event_id,
      endpoint_id: d.endpoint_id,
      last_status: o.status,
      last_error: o.kind === 'delivered' ? null : o.error,
      delivered_at: o.kind === 'delivered' ? now : null,
      next_attempt_at: o.kind === 'retry' ? o.next_attempt_at : now,
    },
  );
  return info.changes === 1;
}

/** Ends the leases of owners known to be dead, so their deliveries are retried now rather than at lease end. */
export async function abandonLeases(q: SqlTx, isDead: (owner: string) => boolean, now: number): Promise<number> {
  const owners = await q.column<string>(
    "SELECT DISTINCT lease_owner FROM webhook_deliveries WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_until >= ?",
    [now],
  );
  let n = 0;
  for (const owner of owners.filter(isDead)) {
    n += (await q.run("UPDATE webhook_deliveries SET lease_until = ? WHERE status = 'pending' AND lease_owner = ?", [now - 1, owner])).changes;
  }
  return n;
}

/** Gives up the pending deliveries of an endpoint that was removed: nobody wants them any more. */
export async function failPendingOf(q: SqlTx, endpointId: string, error: string, now: number): Promise<number> {
  const info = await q.run(
    `UPDATE webhook_deliveries SET status = 'failed', last_error = ?, lease_owner = NULL, lease_until = NULL, next_attempt_at = ?
                   WHERE endpoint_id = ? AND status = 'pending'`,
    [error, now, endpointId],
  );
  return info.changes;
}
