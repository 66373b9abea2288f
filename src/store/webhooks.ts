/**
 * The webhook outbox: events are written in the transaction of the audit event they report (so an event is
 * sent if and only if the state change committed), then claimed with a lease and delivered by
 * src/webhooks/dispatcher.ts outside any transaction, like mail.
 *
 * The webhook event id is the audit event's id (`evt_...`): it is already unique and stable, it is the
 * `webhook-id` header on every retry, and a receiver can look the event up in `mailgate audit`.
 */
import { buildPayload, webhookTypeFor } from '../webhooks/events.js';
import type { AuditEvent } from './audit.js';
import { type Db, stmt } from './db.js';
import { getMessageRow } from './messages.js';

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

const queuedListeners = new WeakMap<Db, Set<() => void>>();

/**
 * Calls `listener` after each commit on this connection that queued webhook deliveries, so a dispatcher in
 * the same process sends at once instead of at its next poll. Returns the unsubscribe function.
 */
export function onQueued(db: Db, listener: () => void): () => void {
  let set = queuedListeners.get(db);
  if (!set) queuedListeners.set(db, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/**
 * Called at the end of appendAudit, inside its transaction: when the action is one webhooks report, writes
 * one webhook_events row and one pending delivery per enabled endpoint whose event and mailbox filters match.
 * Which actions are reported and what a payload says is src/webhooks/events.ts's (pure); this stores its answer.
 * No matching endpoint, no rows: without webhooks, a reported action costs one query of the (empty) endpoints table.
 */
export function enqueueFromAudit(db: Db, event: AuditEvent): void {
  const type = webhookTypeFor(event.action);
  if (!type) return;
  const endpoints = stmt(
    db,
    `SELECT endpoint_id FROM webhook_endpoints
      WHERE disabled_at IS NULL AND (mailbox IS NULL OR mailbox = @mailbox)
        AND (events IS NULL OR EXISTS (SELECT 1 FROM json_each(events) WHERE value = @type))`,
    true,
  ).all({ mailbox: event.mailbox, type }) as string[];
  if (endpoints.length === 0) return;
  const message = event.message_id ? getMessageRow(db, event.message_id) : undefined;
  const payload = JSON.stringify(buildPayload(type, event, message));
  stmt(db, 'INSERT INTO webhook_events (event_id, type, mailbox, message_id, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    event.event_id,
    type,
    event.mailbox,
    event.message_id,
    payload,
    event.at,
  );
  const insert = stmt(
    db,
    `INSERT INTO webhook_deliveries (event_id, endpoint_id, status, next_attempt_at, created_at)
                           VALUES (?, ?, 'pending', ?, ?)`,
  );
  for (const id of endpoints) insert.run(event.event_id, id, event.at, event.at);
  const listeners = queuedListeners.get(db);
  // better-sqlite3 transactions are synchronous, so a microtask runs after the COMMIT (or a rollback, which
  // costs one empty pass at most).
  if (listeners) for (const l of listeners) queueMicrotask(l);
}

/**
 * Claims due deliveries for one attempt each: pending, due, to an enabled endpoint, and not leased by a live
 * claim. The UPDATE repeats the conditions (compare-and-set), so two processes never POST one delivery at once.
 */
export function claimDue(db: Db, owner: string, now: number, leaseMs: number, limit: number): DueWebhookDelivery[] {
  const rows = stmt(
    db,
    `SELECT d.event_id, d.endpoint_id, d.attempts, ev.type, ev.payload, ep.url, ep.secret, ep.allow_private_network
      FROM webhook_deliveries d
      JOIN webhook_events ev ON ev.event_id = d.event_id
      JOIN webhook_endpoints ep ON ep.endpoint_id = d.endpoint_id AND ep.disabled_at IS NULL
      WHERE d.status = 'pending' AND d.next_attempt_at <= @now AND (d.lease_until IS NULL OR d.lease_until < @now)
      ORDER BY d.next_attempt_at, d.created_at LIMIT @limit`,
  ).all({ now, limit }) as {
    event_id: string;
    endpoint_id: string;
    attempts: number;
    type: string;
    payload: string;
    url: string;
    secret: string;
    allow_private_network: number;
  }[];
  const claim = stmt(
    db,
    `UPDATE webhook_deliveries SET lease_owner = @owner, lease_until = @until, attempts = attempts + 1
      WHERE event_id = @event_id AND endpoint_id = @endpoint_id AND status = 'pending'
        AND (lease_until IS NULL OR lease_until < @now)`,
  );
  const out: DueWebhookDelivery[] = [];
  for (const r of rows) {
    if (claim.run({ owner, until: now + leaseMs, now, event_id: r.event_id, endpoint_id: r.endpoint_id }).changes !== 1) continue;
    out.push({
      event_id: r.event_id,
      endpoint_id: r.endpoint_id,
      type: r.type,
      url: r.url,
      secrets: r.secret.split(' '),
      payload: r.payload,
      attempt: r.attempts + 1,
      allow_private_network: r.allow_private_network === 1,
    });
  }
  return out;
}

/** Records one attempt's outcome, only if `owner` still holds the lease. Returns whether it did. */
export function recordAttempt(db: Db, d: { event_id: string; endpoint_id: string }, owner: string, o: WebhookAttemptOutcome, now: number): boolean {
  const status = o.kind === 'retry' ? 'pending' : o.kind;
  return (
    stmt(
      db,
      `UPDATE webhook_deliveries SET status = @status, lease_owner = NULL, lease_until = NULL,
        last_status = @last_status, last_error = @last_error, delivered_at = @delivered_at,
        next_attempt_at = @next_attempt_at
      WHERE event_id = @event_id AND endpoint_id = @endpoint_id AND status = 'pending' AND lease_owner = @owner`,
    ).run({
      status,
      owner,
      event_id: d.event_id,
      endpoint_id: d.endpoint_id,
      last_status: o.status,
      last_error: o.kind === 'delivered' ? null : o.error,
      delivered_at: o.kind === 'delivered' ? now : null,
      next_attempt_at: o.kind === 'retry' ? o.next_attempt_at : now,
    }).changes === 1
  );
}

/** Ends the leases of owners known to be dead, so their deliveries are retried now rather than at lease end. */
export function abandonLeases(db: Db, isDead: (owner: string) => boolean, now: number): number {
  const owners = stmt(
    db,
    "SELECT DISTINCT lease_owner FROM webhook_deliveries WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_until >= ?",
    true,
  ).all(now) as string[];
  let n = 0;
  for (const owner of owners.filter(isDead)) {
    n += stmt(db, "UPDATE webhook_deliveries SET lease_until = ? WHERE status = 'pending' AND lease_owner = ?").run(now - 1, owner).changes;
  }
  return n;
}

/** Gives up the pending deliveries of an endpoint that was removed: nobody wants them any more. */
export function failPendingOf(db: Db, endpointId: string, error: string, now: number): number {
  return stmt(
    db,
    `UPDATE webhook_deliveries SET status = 'failed', last_error = ?, lease_owner = NULL, lease_until = NULL, next_attempt_at = ?
                   WHERE endpoint_id = ? AND status = 'pending'`,
  ).run(error, now, endpointId).changes;
}
