import { defineTool } from '../src/mcp/define-tool.js';
import { cancelItem } from '../src/services/actions.js';
import { ReviewId } from '../src/values.js';
import { reviewDetail, toReviewDetail } from './shapes.js';

export default defineTool({
  name: 'cancel_message',
  dottedName: 'mail.cancel',
  title: 'Cancel a held message',
  description: 'Withdraw one of your messages that is still pending approval, so it is never sent. Fails if it was already decided.',
  access: 'write',
  input: { message_id: ReviewId },
  output: reviewDetail.shape,
  handler: async ({ message_id }, { ctx, principal }) => toReviewDetail(await cancelItem(ctx, principal, message_id)),
});
