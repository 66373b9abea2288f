import type { RuleMatcher } from './rule.js';

/** `reply`: the send answers an inbound thread (reply_email), not a cold first message. */
export const matchReply: RuleMatcher<{ type: 'reply' }> = (_rule, action) => action.isReply;
