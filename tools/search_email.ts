import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { searchEmail } from '../src/services/inbox.js';
import { folderField, limitField, mailboxField } from './inputs.js';
import { emailSummary, toSummary } from './shapes.js';

export default defineTool({
  name: 'search_email',
  title: 'Search a mailbox',
  description: 'Find emails in a mailbox whose sender, recipients, subject or text contain the query (case-insensitive). Newest first.',
  access: 'read',
  untrustedContent: true,
  input: {
    mailbox: mailboxField,
    query: z.string().trim().min(1, { error: 'query is empty; give words to search for' }).max(500),
    folder: folderField.optional().describe('Limit to one folder; all folders when omitted'),
    limit: limitField(100, 20),
  },
  output: { emails: z.array(emailSummary) },
  handler: async (args, { ctx }) => ({ emails: (await searchEmail(ctx, args)).map(toSummary) }),
});
