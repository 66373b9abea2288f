import { defineTool } from '../src/mcp/define-tool.js';
import { cancelMessage } from '../src/services/review.js';
import { MessageId } from '../src/values.js';
import { messageDetail, toMessageDetail } from './shapes.js';

export default defineTool({
  name: 'cancel_message',
  title: 'Cancel a held message',
  description: 'Withdraw one of your messages that is still pending approval, so it is never sent. Fails if it was already decided.',
  access: 'write',
  input: { message_id: MessageId },
  output: messageDetail.shape,
  handler: async ({ message_id }, { ctx, principal }) => toMessageDetail(await cancelMessage(ctx, principal, message_id)),
});
