/** The held mailbox action lifecycle (src/gate/action-lifecycle.ts): every state, every allowed and refused move. */
import { describe, expect, it } from 'vitest';
import { ACTION_CLAIMABLE, ACTION_TRANSITIONS, actionFromStates, isActionFinal } from '../../src/gate/action-lifecycle.js';
import { ACTION_STATUSES } from '../../src/values.js';

describe('mailbox action lifecycle', () => {
  it('covers every status of the vocabulary, and nothing else', () => {
    expect(Object.keys(ACTION_TRANSITIONS).sort()).toEqual([...ACTION_STATUSES].sort());
  });

  it.each([
    ['approved', ['pending']],
    ['rejected', ['pending']],
    ['expired', ['pending']],
    ['cancelled', ['pending']],
    ['applied', ['approved']],
    ['failed', ['approved']],
    ['pending', []],
    ['blocked', []],
  ] as const)('%s is reached only from %j', (to, from) => {
    expect(actionFromStates(to)).toEqual(from);
  });

  it('only approved is claimable, and every decided or finished state is final', () => {
    expect(ACTION_CLAIMABLE).toEqual(['approved']);
    expect(ACTION_STATUSES.filter(isActionFinal).sort()).toEqual(['applied', 'blocked', 'cancelled', 'expired', 'failed', 'rejected']);
  });
});
