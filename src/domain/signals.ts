/**
 * Which change sends which signal (src/store/signals.ts), given inside the transaction that makes the change: the
 * driver sends it only if that transaction commits. The rules call these where a status moves, so every path to a
 * change (a tool, the dashboard, a link, a worker on another instance) signals it the same way.
 */
import { ACTION_CLAIMABLE } from '../gate/action-lifecycle.js';
import { CLAIMABLE } from '../gate/lifecycle.js';
import type { ChangeTopic } from '../store/signals.js';
import type { SqlTx } from '../store/sql/types.js';
import type { ActionStatus, MessageStatus } from '../values.js';

export const signal = (q: SqlTx, topic: ChangeTopic, mailbox: string | null) => q.notify(topic, mailbox);

/** A message moved to `status`: waiters look again, and workers too when they can claim it now. */
export function signalMessage(q: SqlTx, mailbox: string, status: MessageStatus): void {
  q.notify('outbound', mailbox);
  if (CLAIMABLE.includes(status)) q.notify('deliverable', mailbox);
}

/** A held mailbox action moved to `status`, as signalMessage. */
export function signalAction(q: SqlTx, mailbox: string, status: ActionStatus): void {
  q.notify('outbound', mailbox);
  if (ACTION_CLAIMABLE.includes(status)) q.notify('deliverable', mailbox);
}
