import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { toFolderView } from '../src/present/mail-reads.js';
import { listFolders } from '../src/services/folders.js';
import { mailboxField } from './inputs.js';

export default defineTool({
  name: 'list_folders',
  dottedName: 'mail.folders',
  title: 'List the folders of a mailbox',
  description:
    'Every folder of a mailbox with its special use (sent, drafts, trash, junk, archive, all, flagged), message and unread ' +
    'counts and hierarchy delimiter. Use a path as the folder of check_inbox, search_email or tag_email move_to.',
  access: 'read',
  input: { mailbox: mailboxField },
  output: {
    mailbox: z.string(),
    folders: z.array(
      z.object({
        path: z.string().describe('What check_inbox, search_email and tag_email take as folder'),
        name: z.string(),
        delimiter: z.string().nullable(),
        special_use: z.string().nullable().describe('RFC 6154 special use in lower case (sent, drafts, trash, junk, archive, all, flagged), inbox, or null'),
        messages: z.number().int().nullable(),
        unread: z.number().int().nullable(),
        selectable: z.boolean().describe('False for a folder that only holds other folders'),
      }),
    ),
  },
  handler: async ({ mailbox }, { ctx, principal }) => {
    const r = await listFolders(ctx, principal, mailbox);
    return { mailbox: r.mailbox, folders: r.folders.map(toFolderView) };
  },
});
