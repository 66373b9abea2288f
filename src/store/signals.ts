/**
 * Change signals between the stores of one database (Store.onChange): what a committed transaction tells workers,
 * waiters and dashboards, in this process and (PostgreSQL) on every other instance, so none waits for its poll.
 * The drivers carry them (src/store/sql/changes.ts); src/domain/signals.ts says which change sends which.
 */

/**
 * What a change signal (Store.onChange) is about. `outbound`: an outbound message's or held action's status changed
 * (submitted, held, decided, expired, an outcome recorded, resolved, taken back). `deliverable`: mail or an action
 * became claimable now (queued, approved, requeued, a mailbox resumed). `inbox`: inbound mail was stored or
 * changed. `webhook`: webhook deliveries were queued. `lease`: a lease was given up. `mailbox`: a mailbox was created
 * or changed (MCP resource lists). `resync`: signals may have been missed (PostgreSQL: the LISTEN connection dropped
 * and came back): look at everything again.
 */
export type ChangeTopic = 'outbound' | 'deliverable' | 'inbox' | 'webhook' | 'lease' | 'mailbox' | 'resync';

/** A committed change; `local` when this store made it (its own caller already acts on it). */
export interface StoreChange {
  topic: ChangeTopic;
  /** The mailbox it concerns; null when several or unknown. */
  mailbox: string | null;
  local: boolean;
}
