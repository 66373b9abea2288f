/**
 * Named leases on work only one instance should do at a time (one IMAP IDLE watcher per mailbox across the fleet:
 * src/services/inbox-watch.ts). Taken and renewed by one compare-and-set statement: the row is free, expired, or
 * already the caller's. A holder that dies stops renewing and another instance takes over once `expires_at` passes.
 * Times are the callers' clocks, as every lease in the store: instances on different hosts need clocks that agree
 * to well within a lease (NTP does), which renewing at a third of it leaves room for.
 */
import type { SqlTx } from './sql/types.js';

/** Takes or renews `name` for `owner` until `until`; true when owner holds it now. */
export async function acquireLease(q: SqlTx, name: string, owner: string, until: number, now: number): Promise<boolean> {
  // ON CONFLICT DO UPDATE locks the row and re-checks the WHERE against its latest version (PostgreSQL, READ
  // COMMITTED), so of two instances taking an expired lease at once, exactly one gets it.
  const r = await q.run(
    `INSERT INTO leases (name, owner, expires_at) VALUES (@name, @owner, @until)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE leases.owner = excluded.owner OR leases.expires_at <= @now`,
    { name, owner, until, now },
  );
  return r.changes === 1;
}

/** Gives up `name` if `owner` holds it; false when it did not (it expired and another took it). */
export async function releaseLease(q: SqlTx, name: string, owner: string): Promise<boolean> {
  return (await q.run('DELETE FROM leases WHERE name = ? AND owner = ?', [name, owner])).changes === 1;
}

/** Who holds `name` now, or undefined when nobody does (never taken, released, or expired). */
export function leaseHolder(q: SqlTx, name: string, now: number): Promise<string | undefined> {
  return q.value<string>('SELECT owner FROM leases WHERE name = ? AND expires_at > ?', [name, now]);
}
