import type { RuleMatcher } from './rule.js';

/** `all`: approves every send; makes a gated mailbox behave like monitored, minus the notification. */
export const matchAll: RuleMatcher<{ type: 'all' }> = () => true;
