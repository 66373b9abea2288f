/**
 * manage_contacts (issue 11): a mailbox's address book for its agent, to list, look up, add and remove names and
 * addresses. Not a mail action, so not gated: it is allowed in every mode, read_only included, like reads, and
 * audited (contact.added, contact.removed). The operator's contact lists, which auto-approve rules read, are a
 * different store that no agent path can write (README "Contacts").
 */
import { invalid } from '../errors.js';
import type { Contact } from '../store/store.js';
import { canonicalAddress } from '../values.js';
import { type AppContext, type Principal, requireRole } from './context.js';
import { getMailboxOrThrow } from './scope.js';

export interface ContactsRequest {
  mailbox: string;
  action: 'list' | 'lookup' | 'add' | 'remove';
  address?: string | undefined;
  name?: string | undefined;
  query?: string | undefined;
  limit: number;
}

export interface ContactsResult {
  mailbox: string;
  contacts: Contact[];
  /** add / remove: whether anything changed (false: it was already so). */
  changed?: boolean;
}

export async function manageContacts(ctx: AppContext, who: Principal, r: ContactsRequest): Promise<ContactsResult> {
  await requireRole(ctx, who, ['agent'], 'managing contacts');
  const mailbox = (await getMailboxOrThrow(ctx, who, r.mailbox)).address;
  const address = r.address === undefined ? undefined : canonicalAddress(r.address);
  switch (r.action) {
    case 'list':
      return { mailbox, contacts: await ctx.store.listContacts(mailbox, null, r.limit) };
    case 'lookup': {
      const query = (r.query ?? r.name ?? address)?.trim();
      if (!query) throw invalid('query', 'say what to look up: part of a name or an address');
      return { mailbox, contacts: await ctx.store.listContacts(mailbox, query, r.limit) };
    }
    case 'add': {
      if (!address) throw invalid('address', 'give the address of the contact to add');
      const saved = await ctx.store.saveContact({ mailbox, address, name: r.name?.trim() || null }, who.id, ctx.clock());
      return { mailbox, contacts: [saved.contact], changed: saved.changed };
    }
    case 'remove': {
      if (!address) throw invalid('address', 'give the address of the contact to remove');
      return { mailbox, contacts: [], changed: await ctx.store.removeContact(mailbox, address, who.id, ctx.clock()) };
    }
  }
}
