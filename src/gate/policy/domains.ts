import { domainOf } from '../canonical.js';
import { globMatch } from '../glob.js';
import type { PolicyHit, PolicyRule } from './types.js';

/** A bare domain covers its subdomains (`acme.com` matches `eu.acme.com`); globs match as written. */
export function domainListed(domain: string, list: readonly string[]): boolean {
  return list.some((entry) => {
    const e = entry.replace(/\.$/, '');
    return /[*?]/.test(e) ? globMatch(e, domain) : domain === e || domain.endsWith(`.${e}`);
  });
}

/** blocked_domains refuses; allowed_domains, when set, refuses everything outside it. */
export const domains: PolicyRule = (p, draft) => {
  const hits: PolicyHit[] = [];
  const blocked = draft.recipients.filter((r) => domainListed(domainOf(r), p.blockedDomains));
  if (blocked.length > 0) {
    hits.push({
      rule: 'blocked_domains',
      code: 'domain_blocked',
      effect: 'block',
      reason: `mail to ${blocked.join(', ')} is not allowed (blocked domain); remove ${blocked.length === 1 ? 'that recipient' : 'those recipients'}`,
      details: { recipients: blocked },
    });
  }
  if (p.allowedDomains) {
    const allowed = p.allowedDomains;
    const outside = draft.recipients.filter((r) => !domainListed(domainOf(r), allowed));
    if (outside.length > 0) {
      hits.push({
        rule: 'allowed_domains',
        code: 'domain_not_allowed',
        effect: 'block',
        reason: `this mailbox may only write to ${allowed.join(', ')}; ${outside.join(', ')} ${outside.length === 1 ? 'is' : 'are'} outside`,
        details: { recipients: outside, allowed_domains: allowed },
      });
    }
  }
  return hits;
};
