import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { listMailboxes } from '../src/services/mailboxes.js';
import { mailboxShape, toMailbox } from './shapes.js';

export default defineTool({
  name: 'list_mailboxes',
  dottedName: 'mailbox.list',
  title: 'List mailboxes',
  description: 'List every mailbox with its oversight mode, auto-approve rules and pending expiry.',
  access: 'admin',
  input: {},
  output: { mailboxes: z.array(mailboxShape) },
  handler: async (_args, { ctx, principal }) => ({ mailboxes: (await listMailboxes(ctx, principal)).map(toMailbox) }),
});
