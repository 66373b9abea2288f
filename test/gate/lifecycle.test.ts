/** The outbound lifecycle state machine: the transition table, and reachability properties over its graph. */
import { describe, expect, it } from 'vitest';
import { CLAIMABLE, canTransition, hasLeftQueue, isFinal, TRANSITIONS } from '../../src/gate/lifecycle.js';
import { MESSAGE_STATUSES, type MessageStatus } from '../../src/values.js';

/** The lifecycle as designed (pending -> approved -> sending -> sent | failed | outcome_unknown, retry via queued). */
const ALLOWED: Record<MessageStatus, MessageStatus[]> = {
  pending: ['approved', 'rejected', 'expired', 'cancelled'],
  approved: ['sending'],
  // A tightened mode takes back gate-released mail before its final dot (reliability G6): held again or cancelled.
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
const TERMINAL: MessageStatus[] = ['sent', 'failed', 'outcome_unknown', 'rejected', 'expired', 'cancelled', 'blocked'];
const NEVER_SENT: MessageStatus[] = ['rejected', 'expired', 'cancelled', 'blocked'];

/** Every status reachable from `from` in zero or more steps, optionally never passing through `avoid`. */
function reachable(from: MessageStatus, avoid?: MessageStatus): Set<MessageStatus> {
  const seen = new Set<MessageStatus>([from]);
  const queue = [from];
  while (queue.length) {
    for (const next of TRANSITIONS[queue.shift()!]) {
      if (next === avoid || seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

describe('TRANSITIONS table', () => {
  it('has exactly one entry per status, and only known statuses as targets', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...MESSAGE_STATUSES].sort());
    for (const targets of Object.values(TRANSITIONS)) for (const t of targets) expect(MESSAGE_STATUSES).toContain(t);
  });

  const pairs = MESSAGE_STATUSES.flatMap((from) => MESSAGE_STATUSES.map((to) => ({ from, to, allowed: ALLOWED[from].includes(to) })));

  it.each(pairs)('$from -> $to: $allowed', ({ from, to, allowed }) => {
    expect(canTransition(from, to)).toBe(allowed);
    expect(TRANSITIONS[from].includes(to)).toBe(allowed);
  });

  it('pending goes only to approved, rejected, expired or cancelled', () => {
    expect([...TRANSITIONS.pending].sort()).toEqual(['approved', 'cancelled', 'expired', 'rejected']);
  });

  it('has no self-loops', () => {
    for (const s of MESSAGE_STATUSES) expect(canTransition(s, s)).toBe(false);
  });
});

describe('final statuses', () => {
  it.each(MESSAGE_STATUSES.map((s) => ({ s, final: TERMINAL.includes(s) })))('isFinal($s) = $final', ({ s, final }) => {
    expect(isFinal(s)).toBe(final);
    if (final) expect(TRANSITIONS[s]).toEqual([]);
  });

  it.each(TERMINAL)('%s goes nowhere', (s) => {
    for (const to of MESSAGE_STATUSES) expect(canTransition(s, to)).toBe(false);
    expect([...reachable(s)]).toEqual([s]);
  });

  it.each(MESSAGE_STATUSES.map((s) => ({ s, left: s !== 'pending' })))('hasLeftQueue($s) = $left', ({ s, left }) => {
    expect(hasLeftQueue(s)).toBe(left);
  });

  it('claimable statuses are approved and queued only', () => {
    expect([...CLAIMABLE].sort()).toEqual(['approved', 'queued']);
    for (const s of CLAIMABLE) expect(canTransition(s, 'sending')).toBe(true);
  });
});

describe('reachability', () => {
  it.each(NEVER_SENT)('%s can never reach sending or sent', (s) => {
    const r = reachable(s);
    expect(r.has('sending')).toBe(false);
    expect(r.has('sent')).toBe(false);
    expect(r.has('queued')).toBe(false);
  });

  it('pending reaches sent through approved (the check below is not vacuous)', () => {
    expect(reachable('pending').has('sent')).toBe(true);
  });

  it('pending cannot reach sending, queued or sent without passing approved', () => {
    const r = reachable('pending', 'approved');
    expect([...r].sort()).toEqual(['cancelled', 'expired', 'pending', 'rejected']);
  });

  it.each(['sent', 'failed', 'outcome_unknown', 'rejected', 'expired', 'cancelled', 'blocked'] as MessageStatus[])(
    'no path leads from %s back to pending',
    (s) => {
      expect(reachable(s).has('pending')).toBe(false);
    },
  );

  it('only queued and sending lead back to pending (a tightened mode re-holding unsent mail), never approved directly', () => {
    // The store only takes back mail no human approved (decided_by IS NULL); test/store covers that guard.
    expect(MESSAGE_STATUSES.filter((s) => canTransition(s, 'pending')).sort()).toEqual(['queued', 'sending']);
  });

  it('every path from sending ends in a final status or back in the queue (retries loop only through queued)', () => {
    const r = reachable('sending');
    expect([...r].sort()).toEqual(['approved', 'cancelled', 'expired', 'failed', 'outcome_unknown', 'pending', 'queued', 'rejected', 'sending', 'sent']);
    expect(reachable('queued', 'sending')).toEqual(new Set(['queued', 'pending', 'cancelled', 'approved', 'rejected', 'expired']));
  });

  it('only approved and queued lead into sending', () => {
    const into = MESSAGE_STATUSES.filter((s) => canTransition(s, 'sending'));
    expect(into.sort()).toEqual(['approved', 'queued']);
    const intoSent = MESSAGE_STATUSES.filter((s) => canTransition(s, 'sent'));
    expect(intoSent).toEqual(['sending']);
  });
});
