import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { LISTABLE_STATUSES, listPending, METADATA_KEY } from '../src/services/review.js';
import { limitField, mailboxField } from './inputs.js';
import { threadFields } from '../src/services/thread-changes.js';
import { actionView, pendingItem, threadChangeFields, toActionView, toPendingItem } from './shapes.js';

/** Keys as the store accepts them in a JSON path (src/store/messages.ts). */
const metadataFilter = z
  .record(
    z.string().regex(METADATA_KEY, { error: 'metadata keys are 1 to 64 letters, digits, _ . or -' }),
    z.union([z.string().max(1000), z.number(), z.boolean()]),
  )
  .refine((m) => Object.keys(m).length <= 20, { error: 'metadata filter has more than 20 keys' })
  .describe('Only messages whose metadata has every one of these key/value pairs (values compared as JSON: "7" does not match 7)');

export default defineTool({
  name: 'list_pending',
  dottedName: 'queue.list',
  title: 'List mail awaiting approval',
  description:
    'List messages held for human approval, oldest first. Pass next_cursor back as cursor for the next page. ' +
    'The first page also lists held mailbox actions (tag_email in gated_all: which email, which flags, which folder) in `actions`; ' +
    'decide them with the same tools, passing the action_id as message_id. ' +
    'With `status` other than pending, lists recent messages in that status (or any), newest first, and no actions.',
  access: 'queue',
  input: {
    mailbox: mailboxField.optional().describe('Only this mailbox; all mailboxes when omitted'),
    status: z.enum(LISTABLE_STATUSES).default('pending').describe('Which messages: pending (held, the default), another status, or any'),
    metadata: metadataFilter.optional(),
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
