/**
 * Content holds: checks that hold a message for a human even in autonomous or monitored mode and even when
 * an auto-approve rule matches, because they catch what a manipulated agent does (widen a thread to an
 * outsider, write to a domain nobody here has written to, paste a credential).
 */
import { domainOf } from '../canonical.js';
import { domainListed } from './domains.js';
import { findSecrets } from './secrets.js';
import type { PolicyHit, PolicyRule } from './types.js';

export const newRecipient: PolicyRule = (p, draft) => {
  if (!p.holds.newRecipient || !draft.threadParticipants) return [];
  const inThread = new Set(draft.threadParticipants);
  const added = draft.recipients.filter((r) => !inThread.has(r));
  return added.length === 0
    ? []
    : [
        {
          rule: 'content_holds.new_recipient',
          code: 'hold_new_recipient',
          effect: 'hold',
          reason: `the reply adds ${added.join(', ')}, who ${added.length === 1 ? 'is' : 'are'} not in the thread; a human must confirm`,
          details: { added },
        },
      ];
};

export const newExternalDomain: PolicyRule = (p, draft, f) => {
  if (!p.holds.newExternalDomain) return [];
  const own = domainOf(draft.mailbox);
  const fresh = [...new Set(draft.recipients.map(domainOf))].filter((d) => d !== own && !domainListed(d, p.internalDomains) && !f.knownDomains.has(d));
  return fresh.length === 0
    ? []
    : [
        {
          rule: 'content_holds.new_external_domain',
          code: 'hold_external_domain',
          effect: 'hold',
          reason: `first mail from this mailbox to ${fresh.join(', ')}; a human must confirm the new external domain`,
          details: { domains: fresh },
        },
      ];
};

export const secrets: PolicyRule = (p, draft) => {
  if (!p.holds.secrets) return [];
  const found: { where: string; kind: string }[] = [];
  const scan = (where: string, text: string | null | undefined) => {
    for (const kind of findSecrets(text ?? '')) found.push({ where, kind });
  };
  scan('subject', draft.subject);
  scan('text', draft.text);
  scan('html', draft.html);
  for (const a of draft.attachments) {
    for (const kind of a.secrets ?? []) found.push({ where: `attachment ${a.filename}`, kind });
    if (/(^id_(rsa|dsa|ecdsa|ed25519)$)|\.(pem|key|p12|pfx|keystore|jks)$|^\.env(\..*)?$/i.test(a.filename)) {
      found.push({ where: `attachment ${a.filename}`, kind: 'key or credentials file' });
    }
  }
  if (found.length === 0) return [];
  const hit: PolicyHit = {
    rule: 'content_holds.secrets',
    code: 'hold_secret',
    effect: 'hold',
    reason: `the message looks like it contains a secret (${[...new Set(found.map((x) => `${x.kind} in ${x.where}`))].join('; ')}); a human must confirm`,
    // Where and what kind only: the matched text itself is never copied into the audit log.
    details: { found },
  };
  return [hit];
};
