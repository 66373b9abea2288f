import { globMatch } from '../glob.js';
import type { RuleMatcher } from './rule.js';

/** `subject`: the subject matches the glob, case-insensitively (`RE:*`, `*invoice*`). */
export const matchSubject: RuleMatcher<{ type: 'subject'; match: string }> = (rule, action) => globMatch(rule.match, action.subject);
