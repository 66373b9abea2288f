/**
 * Which recipients of a message deserve a second look: external (outside the mailbox's domain and the policy's
 * internal_domains) and new (this mailbox has never sent them mail). Both are what a misdirected or
 * exfiltrating send looks like. For the reviewer's views (the dashboard's message page); the message was
 * resolved in the reviewer's scope (scope.ts getMessageOrThrow) before it gets here.
 */
import { domainOf } from '../gate/canonical.js';
import { domainListed } from '../gate/policy/domains.js';
import { resolvePolicy } from '../gate/policy/settings.js';
import type { AppContext } from './context.js';
import type { OutboundMessage } from '../store/store.js';
import { canonicalAddress } from '../values.js';

export interface RecipientFlags {
  external: boolean;
  isNew: boolean;
}

/** The bare address in `Name <a@b>` or `a@b`, lower-cased. */
function bare(address: string): string {
  return canonicalAddress(/<([^>]+)>\s*$/.exec(address)?.[1] ?? address);
}

export async function recipientFlags(ctx: AppContext, m: OutboundMessage): Promise<Map<string, RecipientFlags>> {
  const own = domainOf(m.mailbox);
  const mailbox = await ctx.store.getMailbox(m.mailbox);
  const internal = resolvePolicy(ctx.settings.policy, mailbox?.policy).internalDomains;
  const all = [...m.to, ...m.cc, ...m.bcc];
  // Correspondents are the addresses this mailbox has sent to (recorded when a delivery succeeds).
  const known = await ctx.store.knownCorrespondents(m.mailbox, all.map(bare));
  const out = new Map<string, RecipientFlags>();
  for (const a of all) {
    const addr = bare(a);
    const d = domainOf(addr);
    out.set(a, { external: d !== own && !domainListed(d, internal), isNew: !known.has(addr) });
  }
  return out;
}
