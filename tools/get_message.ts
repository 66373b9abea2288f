import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { messageHistory } from '../src/services/review.js';
import { MessageId } from '../src/values.js';
import { threadFields } from '../src/services/thread-changes.js';
import { messageDetail, threadChangeFields, toMessageDetail } from './shapes.js';

export default defineTool({
  name: 'get_message',
  title: 'Get an outbound message',
  description: 'Status and history of a message you sent (message_id from send_email or reply_email): held, approved, rejected with its reason, sent, failed.',
  access: 'read',
  input: { message_id: MessageId },
  output: {
    ...messageDetail.shape,
    ...threadChangeFields,
    history: z.array(z.object({ at: z.string(), action: z.string(), actor: z.string(), reason: z.string().nullable() })),
  },
  handler: async ({ message_id }, { ctx, principal }) => {
    const { message, events } = await messageHistory(ctx, principal, message_id);
    return {
      ...toMessageDetail(message),
      ...await threadFields(ctx, message),
      history: events.map((e) => ({
        at: new Date(e.at).toISOString(), action: e.action, actor: e.actor,
        reason: typeof e.detail.reason === 'string' ? e.detail.reason : typeof e.detail.error === 'string' ? e.detail.error : null,
      })),
    };
  },
});
