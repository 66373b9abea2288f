/**
 * The delivery side of the outbound aggregate: claims with a lease, the attempt count, and the leases left by
 * dead processes. Each function runs inside the caller's transaction; what an outcome changes is the domain's
 * (src/domain/delivery-rules.ts).
 *
 * An attempt is charged when a transmission was tried (the sender reached MAIL FROM, or a transport returned
 * an outcome), never on claim: a process that dies between claim and transmission has not tried the server,
 * and charging it would let a few crashes use up a message's retries.
 */
import { CLAIMABLE } from '../gate/lifecycle.js';
import * as messages from './messages.js';
import type { SqlTx } from './sql/types.js';

/** Claims due messages of the given mailboxes, skipping mailboxes whose deliveries are paused or held back. */
export async function claimDue(
  q: SqlTx,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
  wanted: readonly string[],
): Promise<messages.OutboundMessage[]> {
  const open = await q.column<string>(
    `SELECT address FROM mailboxes WHERE address IN ${q.dialect.jsonList('?')}
                         AND delivery_paused_at IS NULL AND (delivery_held_until IS NULL OR delivery_held_until <= ?)`,
    [JSON.stringify(wanted), now],
  );
  const claimed: messages.OutboundMessage[] = [];
  for (const m of await messages.claimableRows(q, now, limit, open)) {
    const lease = { lease_owner: owner, lease_until: now + leaseMs };
    // Compare-and-set: the row is claimed only if it is still claimable.
    if (await messages.transition(q, m.message_id, CLAIMABLE, 'sending', lease, now)) claimed.push({ ...m, status: 'sending', ...lease });
  }
  return claimed;
}

/** Counts one attempt for the lease holder (the sender is about to send MAIL FROM). False if the lease is lost. */
export async function chargeAttempt(q: SqlTx, id: string, owner: string, now: number): Promise<boolean> {
  const r = await q.run(
    `UPDATE messages SET attempts = attempts + 1, updated_at = ?
                   WHERE message_id = ? AND status = 'sending' AND lease_owner = ? AND lease_until >= ?`,
    [now, id, owner, now],
  );
  return r.changes === 1;
}

export async function markTransmitting(q: SqlTx, id: string, owner: string, now: number): Promise<void> {
  const r = await q.run(
    `UPDATE messages SET transmitting_at = ?, updated_at = ?
                       WHERE message_id = ? AND status = 'sending' AND lease_owner = ? AND lease_until >= ?`,
    [now, now, id, owner, now],
  );
  if (r.changes !== 1) throw new Error(`lease on ${id} lost before transmission; not sending`);
}

/**
 * Ends this owner's lease at once (after its outcome could not be recorded), so the next pass of any worker
 * recovers the message as a dead process's would be: requeued if nothing was transmitted, else outcome_unknown.
 * An in-place UPDATE of one row: it needs no new page, so it usually succeeds where the outcome's inserts did not.
 */
export async function releaseLease(q: SqlTx, id: string, owner: string, now: number): Promise<boolean> {
  return (
    (await q.run("UPDATE messages SET lease_until = ? WHERE message_id = ? AND status = 'sending' AND lease_owner = ?", [now - 1, id, owner])).changes === 1
  );
}

export async function abandonLeases(q: SqlTx, isDead: (owner: string) => boolean, now: number): Promise<number> {
  const owners = await q.column<string>("SELECT DISTINCT lease_owner FROM messages WHERE status = 'sending' AND lease_owner IS NOT NULL");
  let n = 0;
  for (const owner of owners.filter(isDead)) {
    n += (await q.run("UPDATE messages SET lease_until = ? WHERE status = 'sending' AND lease_owner = ?", [now - 1, owner])).changes;
  }
  return n;
}
