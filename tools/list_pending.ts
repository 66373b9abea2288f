import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { listPending } from '../src/services/review.js';
import { limitField, mailboxField } from './inputs.js';
import { threadFields } from '../src/services/thread-changes.js';
import { pendingItem, threadChangeFields, toPendingItem } from './shapes.js';

export default defineTool({
  name: 'list_pending',
  title: 'List mail awaiting approval',
  description: 'List messages held for human approval, oldest first. Pass next_cursor back as cursor for the next page.',
  access: 'queue',
  input: {
    mailbox: mailboxField.optional().describe('Only this mailbox; all mailboxes when omitted'),
    limit: limitField(200, 50),
    cursor: z.string().max(200).optional(),
  },
  output: { messages: z.array(pendingItem.extend(threadChangeFields)), next_cursor: z.string().nullable() },
  handler: async (args, { ctx, principal }) => {
    const page = await listPending(ctx, principal, args);
    const messages = await Promise.all(page.messages.map(async (m) => ({ ...toPendingItem(m), ...await threadFields(ctx, m) })));
    return { messages, next_cursor: page.next_cursor };
  },
});
