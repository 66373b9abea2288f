import type { RuleMatcher } from './rule.js';

/** `known_contact`: every recipient has corresponded with this mailbox before (autonomy level 2). */
export const matchKnownContact: RuleMatcher<{ type: 'known_contact' }> = (_rule, action, facts) =>
  action.recipients.length > 0 && action.recipients.every((r) => facts.knownContacts.has(r));
