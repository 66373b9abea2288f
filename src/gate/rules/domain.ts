import { domainOf } from '../canonical.js';
import { globMatch } from '../glob.js';
import type { RuleMatcher } from './rule.js';

/**
 * `domain`: every recipient's domain matches the glob (`acme.com`, `*.acme.com`). `*.acme.com` matches
 * subdomains only, as in DNS wildcards; list `acme.com` as a second rule to include the apex.
 * A trailing dot on the domain is ignored so `acme.com.` cannot dodge or fake a match.
 */
export const matchDomain: RuleMatcher<{ type: 'domain'; match: string }> = (rule, action) =>
  action.recipients.length > 0 && action.recipients.every((r) => globMatch(rule.match.replace(/\.$/, ''), domainOf(r)));
