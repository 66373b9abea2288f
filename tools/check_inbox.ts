import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { checkInbox } from '../src/services/inbox.js';
import { folderField, limitField, mailboxField } from './inputs.js';
import { emailSummary, toSummary } from './shapes.js';

export default defineTool({
  name: 'check_inbox',
  dottedName: 'mail.list',
  title: 'Check a mailbox',
  description: 'List the newest emails in a mailbox folder (INBOX by default), newest first. Use read_email for the full text.',
  access: 'read',
  untrustedContent: true,
  input: {
    mailbox: mailboxField,
    folder: folderField.default('INBOX').describe('Folder name, e.g. INBOX or Sent'),
    unread_only: z.boolean().default(false),
    limit: limitField(100, 20),
  },
  output: { emails: z.array(emailSummary) },
  handler: async (args, { ctx, principal }) => ({ emails: (await checkInbox(ctx, principal, args)).map(toSummary) }),
});
