/**
 * Mailbox-wide delivery control, the SQL of it; each function runs inside the caller's transaction. When to
 * pause, resume or feed the breaker is the domain's (src/domain/delivery-rules.ts).
 *
 * A pause is for configuration problems (authentication, TLS): every message of the mailbox would fail the
 * same way, so they stay queued, uncharged, until the settings change or an operator resumes. The breaker is
 * for a server that keeps answering 4xx: after several consecutive transient failures the whole mailbox waits
 * (delivery_held_until), rather than each queued message trying on its own schedule.
 */
import { CLAIMABLE } from '../gate/lifecycle.js';
import { IN_FLIGHT, statusList } from './messages.js';
import type { SqlTx } from './sql/types.js';

/** A mailbox's delivery state (mailboxes.delivery_* columns, schema 5). */
export interface DeliveryState {
  paused_at: number | null;
  paused_reason: string | null;
  /** The salted settings digest at the pause (`salt:hex`), to tell when the configuration changed. */
  paused_digest: string | null;
  /** Consecutive transient failures (reset by any answer that is not a 4xx). */
  failures: number;
  /** The breaker: no delivery for the mailbox before this time. */
  held_until: number | null;
}

export function deliveryState(q: SqlTx, address: string): Promise<DeliveryState | undefined> {
  return q.get<DeliveryState>(
    `SELECT delivery_paused_at AS paused_at, delivery_paused_reason AS paused_reason, delivery_paused_digest AS paused_digest,
                   delivery_failures AS failures, delivery_held_until AS held_until FROM mailboxes WHERE address = ?`,
    [address],
  );
}

/** Pauses the mailbox's deliveries; false when it was already paused (the first pause's reason stays). */
export async function setDeliveryPause(q: SqlTx, address: string, reason: string, digest: string | null, now: number): Promise<boolean> {
  const r = await q.run(
    `UPDATE mailboxes SET delivery_paused_at = ?, delivery_paused_reason = ?, delivery_paused_digest = ?
                           WHERE address = ? AND delivery_paused_at IS NULL`,
    [now, reason, digest, address],
  );
  return r.changes === 1;
}

/** Lifts the pause and the breaker. */
export async function clearDeliveryPause(q: SqlTx, address: string): Promise<void> {
  await q.run(
    `UPDATE mailboxes SET delivery_paused_at = NULL, delivery_paused_reason = NULL, delivery_paused_digest = NULL,
            delivery_failures = 0, delivery_held_until = NULL WHERE address = ?`,
    [address],
  );
}

/** The mailbox's mail still on its way (claimable or being sent). */
export async function countInFlight(q: SqlTx, address: string): Promise<number> {
  return (await q.value<number>(`SELECT count(*) FROM messages WHERE mailbox = ? AND status IN (${statusList(IN_FLIGHT)})`, [address])) ?? 0;
}

/** Makes the mailbox's claimable mail due now, whatever retry time it had. */
export async function dueNow(q: SqlTx, address: string, now: number): Promise<void> {
  await q.run(`UPDATE messages SET next_attempt_at = ? WHERE mailbox = ? AND status IN (${statusList(CLAIMABLE)}) AND next_attempt_at > ?`, [
    now,
    address,
    now,
  ]);
}

/**
 * Feeds the breaker: a transient failure counts (and may hold the mailbox until `holdUntil`); any other
 * answer from the server resets it.
 */
export async function noteDeliveryResult(q: SqlTx, address: string, result: 'answered' | 'transient', _now: number, holdUntil?: number | null): Promise<void> {
  if (result === 'answered') {
    await q.run(
      `UPDATE mailboxes SET delivery_failures = 0, delivery_held_until = NULL
              WHERE address = ? AND (delivery_failures <> 0 OR delivery_held_until IS NOT NULL)`,
      [address],
    );
    return;
  }
  // The later of the current hold and the new one (scalar MAX(a, b) is SQLite's only).
  await q.run(
    `UPDATE mailboxes SET delivery_failures = delivery_failures + 1,
              delivery_held_until = CASE WHEN @hold IS NULL THEN delivery_held_until
                                         WHEN COALESCE(delivery_held_until, 0) > @hold THEN COALESCE(delivery_held_until, 0) ELSE @hold END
            WHERE address = @address`,
    { address, hold: holdUntil ?? null },
  );
}
