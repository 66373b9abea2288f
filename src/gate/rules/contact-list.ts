import type { RuleMatcher } from './rule.js';

/** `contact_list`: every recipient is in the named list. An unknown list matches nobody (fails closed). */
export const matchContactList: RuleMatcher<{ type: 'contact_list'; list: string }> = (rule, action, facts) => {
  const list = facts.contactLists.get(rule.list);
  return !!list && action.recipients.length > 0 && action.recipients.every((r) => list.has(r));
};
