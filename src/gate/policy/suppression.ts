import type { PolicyRule } from './types.js';

/** Recipients on the suppression list (by address, sub-address or domain; canonicalised: see canonical.ts). */
export const suppression: PolicyRule = (_p, draft, f) => {
  const hit = draft.recipients.filter((r) => f.suppressed.has(r));
  if (hit.length === 0) return [];
  const entries = hit.map((r) => ({ recipient: r, ...f.suppressed.get(r)! }));
  return [
    {
      rule: 'suppression',
      code: 'suppressed_recipient',
      effect: 'block',
      reason: `${hit.join(', ')} ${hit.length === 1 ? 'is' : 'are'} on the suppression list (never to be mailed); remove ${hit.length === 1 ? 'it' : 'them'} from the recipients`,
      details: { recipients: entries },
    },
  ];
};
