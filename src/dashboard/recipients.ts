/**
 * Which recipients of a message deserve a second look: external (outside the mailbox's domain) and new
 * (this mailbox has never sent them mail). Both are what a misdirected or exfiltrating send looks like.
 */
import type { AppContext } from '../services/context.js';
import type { OutboundMessage } from '../store/store.js';
import { canonicalAddress } from '../values.js';

export interface RecipientFlags {
  external: boolean;
  isNew: boolean;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** The bare address in `Name <a@b>` or `a@b`, lower-cased. */
function bare(address: string): string {
  return canonicalAddress(/<([^>]+)>\s*$/.exec(address)?.[1] ?? address);
}

export async function recipientFlags(ctx: AppContext, m: OutboundMessage): Promise<Map<string, RecipientFlags>> {
  const own = domainOf(m.mailbox);
  const earlier = new Set<string>();
  for (const other of await ctx.store.listMessages({ mailbox: m.mailbox })) {
    if (other.message_id === m.message_id || other.status !== 'sent') continue;
    for (const a of [...other.to, ...other.cc, ...other.bcc]) earlier.add(bare(a));
  }
  const out = new Map<string, RecipientFlags>();
  for (const a of [...m.to, ...m.cc, ...m.bcc]) {
    const addr = bare(a);
    out.set(a, { external: domainOf(addr) !== own, isNew: !earlier.has(addr) });
  }
  return out;
}
