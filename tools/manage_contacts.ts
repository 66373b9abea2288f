import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { manageContacts } from '../src/services/contacts.js';
import { EmailAddress, headerText } from '../src/values.js';
import { limitField, mailboxField } from './inputs.js';

const contact = z.object({ address: z.string(), name: z.string().nullable(), created_at: z.string(), updated_at: z.string() });

export default defineTool({
  name: 'manage_contacts',
  dottedName: 'contacts.manage',
  title: 'Manage contacts',
  description:
    "A mailbox's address book: list, lookup (part of a name or an address), add (or rename) and remove contacts. " +
    'Allowed in every oversight mode, read_only included. It does not change who mail may go to without approval: ' +
    'auto-approve contact lists are set by an operator, not here.',
  access: 'write',
  input: {
    mailbox: mailboxField,
    action: z.enum(['list', 'lookup', 'add', 'remove']),
    address: EmailAddress.optional().describe('add / remove: the contact address'),
    name: headerText('name', 200).optional().describe('add: the display name'),
    query: headerText('query', 200).optional().describe('lookup: part of a name or an address'),
    limit: limitField(1000, 100),
  },
  output: { mailbox: z.string(), contacts: z.array(contact), changed: z.boolean().optional() },
  handler: async (args, { ctx, principal }) => {
    const r = await manageContacts(ctx, principal, args);
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      mailbox: r.mailbox,
      contacts: r.contacts.map((c) => ({ address: c.address, name: c.name, created_at: iso(c.created_at), updated_at: iso(c.updated_at) })),
      ...(r.changed === undefined ? {} : { changed: r.changed }),
    };
  },
});
