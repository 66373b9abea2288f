import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { itemHistory } from '../src/services/actions.js';
import { ReviewId } from '../src/values.js';
import { threadFields } from '../src/services/thread-changes.js';
import { reviewDetail, threadChangeFields, toReviewDetail } from './shapes.js';

export default defineTool({
  name: 'get_message',
  dottedName: 'mail.status',
  title: 'Get an outbound message',
  description:
    'Status and history of a message you sent (message_id from send_email or reply_email): held, approved, rejected with its reason, sent, failed. ' +
    'Also takes an action_id from tag_email (type "action": held, approved, applied, failed, rejected).',
  access: 'read',
  input: { message_id: ReviewId },
  output: {
    ...reviewDetail.shape,
    ...threadChangeFields,
    history: z.array(z.object({ at: z.string(), action: z.string(), actor: z.string(), reason: z.string().nullable() })),
  },
  handler: async ({ message_id }, { ctx, principal }) => {
    const { item, events } = await itemHistory(ctx, principal, message_id);
    return {
      ...toReviewDetail(item),
      ...('action_id' in item ? { thread_compared: false, thread_changes: [] } : await threadFields(ctx, item)),
      history: events.map((e) => ({
        at: new Date(e.at).toISOString(),
        action: e.action,
        actor: e.actor,
        reason: typeof e.detail.reason === 'string' ? e.detail.reason : typeof e.detail.error === 'string' ? e.detail.error : null,
      })),
    };
  },
});
