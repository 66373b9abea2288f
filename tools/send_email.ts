import { defineTool } from '../src/mcp/define-tool.js';
import { sendEmail } from '../src/services/send.js';
import { addressList } from '../src/values.js';
import { attachmentsField, bodyHtml, bodyText, decisionFields, idempotencyKey, mailboxField, metadataField, subjectField } from './inputs.js';
import { withMark } from './marks.js';
import { compact, sendResultShape } from './shapes.js';
import { withReviewEstimate } from '../src/services/review-estimate.js';

export default defineTool({
  name: 'send_email',
  dottedName: 'mail.send',
  title: 'Send an email',
  description:
    'Send an email from one of your mailboxes. The mailbox oversight mode decides what happens: status "sent" ' +
    '(delivered now), "queued" (accepted, will be retried), "pending" (held until a human approves; tell the user ' +
    'and call mail_wait with the message_id), or "blocked" with an error code: "action_blocked" (the mode forbids ' +
    'sending), or a policy code such as "rate_limited" (retry after retry_after), "duplicate" (already drafted: follow ' +
    'duplicate_of), "suppressed_recipient" or "domain_blocked" (remove that recipient). ' +
    'Give text and/or html. Pass an idempotency_key when you might retry.',
  access: 'write',
  input: {
    mailbox: mailboxField,
    to: addressList('to'),
    cc: addressList('cc').optional(),
    bcc: addressList('bcc').optional(),
    subject: subjectField.describe('Subject line (one line)'),
    text: bodyText.optional().describe('Plain-text body'),
    html: bodyHtml.optional().describe('HTML body'),
    attachments: attachmentsField.optional(),
    idempotency_key: idempotencyKey.optional(),
    metadata: metadataField.optional(),
    ...decisionFields,
  },
  output: sendResultShape,
  handler: async (args, { ctx, principal }) => compact({ ...(await withReviewEstimate(ctx, await sendEmail(ctx, principal, withMark(args)))) }),
});
