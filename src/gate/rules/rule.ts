import type { Action, Facts } from '../types.js';

/** A rule matcher is a pure predicate over one send. */
export type RuleMatcher<R> = (rule: R, action: Extract<Action, { kind: 'send' }>, facts: Facts) => boolean;
