import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { listPending } from '../src/services/review.js';
import { limitField, mailboxField } from './inputs.js';
import { threadFields } from '../src/services/thread-changes.js';
import { actionView, pendingItem, threadChangeFields, toActionView, toPendingItem } from './shapes.js';

export default defineTool({
  name: 'list_pending',
  dottedName: 'queue.list',
  title: 'List mail awaiting approval',
  description:
    'List messages held for human approval, oldest first. Pass next_cursor back as cursor for the next page. ' +
    'The first page also lists held mailbox actions (tag_email in gated_all: which email, which flags, which folder) in `actions`; ' +
    'decide them with the same tools, passing the action_id as message_id.',
  access: 'queue',
  input: {
    mailbox: mailboxField.optional().describe('Only this mailbox; all mailboxes when omitted'),
    limit: limitField(200, 50),
    cursor: z.string().max(200).optional(),
  },
  output: { messages: z.array(pendingItem.extend(threadChangeFields)), actions: z.array(actionView), next_cursor: z.string().nullable() },
  handler: async (args, { ctx, principal }) => {
    const page = await listPending(ctx, principal, args);
    const messages = await Promise.all(page.messages.map(async (m) => ({ ...toPendingItem(m), ...(await threadFields(ctx, m)) })));
    return { messages, actions: page.actions.map(toActionView), next_cursor: page.next_cursor };
  },
});
