/**
 * The lifecycle of a held mailbox action (tag_email: flags, move, trash) as a state machine. Like the outbound
 * lifecycle (lifecycle.ts), the store's guarded UPDATEs take their allowed from-states from here.
 *
 *   pending --approve--> approved --apply--> applied | failed   (a transient failure stays approved, retried later)
 *      +--reject--> rejected   +--expire--> expired   +--cancel--> cancelled
 *   (an action the gate lets go starts at approved; one it blocks is recorded as blocked and goes nowhere)
 */
import type { ActionStatus } from '../values.js';

export const ACTION_TRANSITIONS: Readonly<Record<ActionStatus, readonly ActionStatus[]>> = {
  pending: ['approved', 'rejected', 'expired', 'cancelled'],
  approved: ['applied', 'failed'],
  applied: [],
  failed: [],
  rejected: [],
  expired: [],
  cancelled: [],
  blocked: [],
};

/** The statuses from which `to` may be reached. */
export function actionFromStates(to: ActionStatus): ActionStatus[] {
  return (Object.keys(ACTION_TRANSITIONS) as ActionStatus[]).filter((from) => ACTION_TRANSITIONS[from].includes(to));
}

/** Statuses a worker may claim (applying a flag or a move twice is harmless, so a lost lease is simply claimed again). */
export const ACTION_CLAIMABLE: readonly ActionStatus[] = ['approved'];

export function isActionFinal(status: ActionStatus): boolean {
  return ACTION_TRANSITIONS[status].length === 0;
}
