/**
 * The outbound lifecycle as a state machine. The store's guarded UPDATEs use these tables in their
 * WHERE clauses, so a transition that is not listed here cannot happen, whichever process tries it.
 *
 *   pending --approve--> approved --claim--> sending --> sent | failed | outcome_unknown
 *      |                                        \--retry--> queued --claim--> sending ...
 *      +--reject--> rejected   +--expire--> expired   +--cancel--> cancelled
 *   (autonomous sends start at queued; blocked sends are recorded as blocked and go nowhere)
 */
import type { MessageStatus } from '../values.js';

export const TRANSITIONS: Readonly<Record<MessageStatus, readonly MessageStatus[]>> = {
  pending: ['approved', 'rejected', 'expired', 'cancelled'],
  approved: ['sending'],
  // queued -> pending / cancelled and sending -> pending / cancelled: a tightened mode takes back mail the gate
  // had let go but that has not reached the final dot yet (reliability G6). Human approvals are never taken back.
  queued: ['sending', 'pending', 'cancelled'],
  sending: ['sent', 'queued', 'failed', 'outcome_unknown', 'pending', 'cancelled'],
  sent: [],
  failed: [],
  outcome_unknown: [],
  rejected: [],
  expired: [],
  cancelled: [],
  blocked: [],
};

/**
 * The only way out of outcome_unknown: a person who checked the recipient's side or the server's logs
 * resolves it (`mailgate resolve`). Apart from TRANSITIONS on purpose: no automatic process may ever move
 * such a message, because a second copy cannot be withdrawn; `not delivered` ends as failed, so sending it
 * again takes a fresh draft and its own approval.
 */
export const RESOLUTIONS: Readonly<Partial<Record<MessageStatus, readonly MessageStatus[]>>> = {
  outcome_unknown: ['sent', 'failed'],
};

export function canTransition(from: MessageStatus, to: MessageStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses a delivery worker may claim. */
export const CLAIMABLE: readonly MessageStatus[] = ['approved', 'queued'];

/** Statuses in which no automatic process will change a message again (a person may resolve outcome_unknown). */
export function isFinal(status: MessageStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** Statuses in which the message has left the approval queue (decided one way or the other). */
export function hasLeftQueue(status: MessageStatus): boolean {
  return status !== 'pending';
}
