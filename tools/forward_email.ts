import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { forwardEmail } from '../src/services/forward.js';
import { withReviewEstimate } from '../src/services/review-estimate.js';
import { addressList, EmailId } from '../src/values.js';
import { bodyText, decisionFields, idempotencyKey, mailboxField, metadataField } from './inputs.js';
import { withMark } from './marks.js';
import { compact, sendResultShape } from './shapes.js';

export default defineTool({
  name: 'forward_email',
  dottedName: 'mail.forward',
  title: 'Forward an email',
  description:
    'Forward an inbound email to new recipients with an optional note. It is a send like send_email: the mailbox ' +
    'oversight mode decides (sent, queued, pending for a human, or blocked), and a reviewer sees the forwarded ' +
    'content. as "inline" (default) puts the original text under a "Forwarded message" block, with its attachments ' +
    'unless include_attachments is false; as "attachment" attaches the original message whole (.eml). Text hidden ' +
    'from a human reader is never forwarded.',
  access: 'write',
  input: {
    email_id: EmailId,
    to: addressList('to'),
    cc: addressList('cc').optional(),
    bcc: addressList('bcc').optional(),
    note: bodyText.optional().describe('Your text above the forwarded message'),
    as: z.enum(['inline', 'attachment']).default('inline').describe('inline (default) or attachment (the original as .eml)'),
    include_attachments: z.boolean().default(true).describe('inline only: forward the original attachments too'),
    mailbox: mailboxField.optional().describe('Send from this mailbox (default: the one the email is in)'),
    idempotency_key: idempotencyKey.optional(),
    metadata: metadataField.optional(),
    ...decisionFields,
  },
  output: sendResultShape,
  handler: async (args, { ctx, principal }) => compact({ ...(await withReviewEstimate(ctx, await forwardEmail(ctx, principal, withMark(args)))) }),
});
