import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { searchEmail } from '../src/services/inbox.js';
import { folderField, limitField, mailboxField } from './inputs.js';
import { emailSummary, toSummary } from './shapes.js';

export default defineTool({
  name: 'search_email',
  dottedName: 'mail.search',
  title: 'Search a mailbox',
  description:
    'Find emails in a mailbox where every word of the query starts a word in the sender, recipients, subject or ' +
    'text (case-insensitive), newest first. source says whether the local ' +
    "index answered alone or the mail server was also asked; indexed / total say how many of the folder's messages " +
    'the local index holds (null for a sandbox mailbox, which is always fully indexed).',
  access: 'read',
  untrustedContent: true,
  input: {
    mailbox: mailboxField,
    query: z.string().trim().min(1, { error: 'query is empty; give words to search for' }).max(500),
    folder: folderField.optional().describe('Limit to one folder; every synced folder when omitted'),
    limit: limitField(100, 20),
  },
  output: {
    emails: z.array(emailSummary),
    source: z.enum(['cache', 'cache+server']),
    indexed: z.number().int().nullable().describe('Messages of the folder whose text the local index holds'),
    total: z.number().int().nullable().describe('Messages in the folder on the server at the last sync'),
  },
  handler: async (args, { ctx, principal }) => {
    const r = await searchEmail(ctx, principal, args);
    return { emails: r.emails.map(toSummary), source: r.source, indexed: r.indexed, total: r.total };
  },
});
