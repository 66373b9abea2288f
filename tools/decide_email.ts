import * as z from 'zod';
import { invalid } from '../src/errors.js';
import { defineTool } from '../src/mcp/define-tool.js';
import { approveItemInSession, rejectItem } from '../src/services/actions.js';
import { ReviewId } from '../src/values.js';
import { reviewDetail, toReviewDetail } from './shapes.js';

export default defineTool({
  name: 'decide_email',
  dottedName: 'queue.decide',
  title: 'Approve or reject a held email',
  description:
    'Decide a message held for approval: action "approve" sends it now; "reject" (give a reason) means it is never sent. ' +
    'In a session that can also send mail, an approval waits for the person to confirm it in their client.',
  access: 'review',
  input: {
    message_id: ReviewId,
    action: z.enum(['approve', 'reject'], { error: "action must be 'approve' or 'reject'" }),
    reason: z.string().trim().max(2000).optional().describe('Why; required to reject, kept in the audit log'),
  },
  output: reviewDetail.shape,
  handler: async ({ message_id, action, reason }, call) => {
    if (action === 'reject') {
      if (!reason) throw invalid('reason', 'a rejection needs a reason; it is kept in the audit log and shown to the agent');
      return toReviewDetail(await rejectItem(call.ctx, call.principal, message_id, reason));
    }
    return toReviewDetail(await approveItemInSession(call, message_id, { note: reason ?? null }));
  },
});
