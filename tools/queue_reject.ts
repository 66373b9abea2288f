import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { rejectItem } from '../src/services/actions.js';
import { ReviewId } from '../src/values.js';
import { reviewDetail, toReviewDetail } from './shapes.js';

export default defineTool({
  name: 'queue_reject',
  dottedName: 'queue.reject',
  title: 'Reject a held email',
  description: 'Reject a message held for approval; it will never be sent. The reason is kept in the audit log and shown to the agent.',
  access: 'review',
  input: {
    message_id: ReviewId,
    reason: z.string().trim().min(1, { error: 'reason is empty; say why the message is rejected' }).max(2000),
  },
  output: reviewDetail.shape,
  handler: async ({ message_id, reason }, { ctx, principal }) => toReviewDetail(await rejectItem(ctx, principal, message_id, reason)),
});
