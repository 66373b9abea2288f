import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { replyEmail } from '../src/services/send.js';
import { addressList, EmailId } from '../src/values.js';
import { attachmentsField, bodyHtml, bodyText, decisionFields, idempotencyKey, metadataField } from './inputs.js';
import { withMark } from './marks.js';
import { compact, sendResultShape } from './shapes.js';
import { withReviewEstimate } from '../src/services/review-estimate.js';

export default defineTool({
  name: 'reply_email',
  dottedName: 'mail.reply',
  title: 'Reply to an email',
  description:
    'Reply to an inbound email (email_id from check_inbox or search_email). Sets the recipient, "Re:" subject and ' +
    'threading headers for you, and quotes the original under your text (quote: false to leave it out); reply_all also copies the other recipients. Gated like send_email: the status may be ' +
    '"pending" until a human approves.',
  access: 'write',
  input: {
    email_id: EmailId,
    text: bodyText.optional().describe('Plain-text body'),
    html: bodyHtml.optional().describe('HTML body'),
    reply_all: z.boolean().default(false).describe('Also reply to everyone else on the original to and cc'),
    quote: z
      .boolean()
      .optional()
      .describe('Quote the original under your text ("On <date>, <sender> wrote:" and "> " lines); default from the server config, normally true'),
    cc: addressList('cc').optional().describe('Extra people to copy. Adding anyone not already in the thread holds the reply for a human'),
    bcc: addressList('bcc').optional().describe('Blind copies. Adding anyone not already in the thread holds the reply for a human'),
    attachments: attachmentsField.optional(),
    idempotency_key: idempotencyKey.optional(),
    metadata: metadataField.optional(),
    ...decisionFields,
  },
  output: sendResultShape,
  handler: async (args, { ctx, principal }) => compact({ ...(await withReviewEstimate(ctx, await replyEmail(ctx, principal, withMark(args)))) }),
});
