import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { rejectMessage } from '../src/services/review.js';
import { MessageId } from '../src/values.js';
import { messageDetail, toMessageDetail } from './shapes.js';

export default defineTool({
  name: 'queue_reject',
  dottedName: 'queue.reject',
  title: 'Reject a held email',
  description: 'Reject a message held for approval; it will never be sent. The reason is kept in the audit log and shown to the agent.',
  access: 'review',
  input: {
    message_id: MessageId,
    reason: z.string().trim().min(1, { error: 'reason is empty; say why the message is rejected' }).max(2000),
  },
  output: messageDetail.shape,
  handler: async ({ message_id, reason }, { ctx, principal }) => toMessageDetail(await rejectMessage(ctx, principal, message_id, reason)),
});
