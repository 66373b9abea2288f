import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { approveItemInSession } from '../src/services/actions.js';
import { addressList, ReviewId } from '../src/values.js';
import { bodyHtml, bodyText, subjectField } from './inputs.js';
import { reviewDetail, toReviewDetail } from './shapes.js';

export default defineTool({
  name: 'queue_approve',
  dottedName: 'queue.approve',
  title: 'Approve a held email (with optional edits)',
  description:
    'Approve a message held for approval and send it. Optionally edit subject, text (or body), html or recipients first; ' +
    'the original and edited versions are both kept in the audit log. In a session that can also send mail, the person ' +
    'confirms in their client (a one-time link or a prompt) before anything is approved; if the client cannot ask them, ' +
    'the error gives the command that approves.',
  access: 'review',
  input: {
    message_id: ReviewId,
    edits: z
      .object({
        subject: subjectField.optional(),
        text: bodyText.optional(),
        // MCPMail's spelling of the text edit, so an agent prompt written for it works here too.
        body: bodyText.optional().describe("The same as text (MCPMail's name); give one of them"),
        html: bodyHtml.optional(),
        to: addressList('to').optional(),
        cc: addressList('cc').optional(),
        bcc: addressList('bcc').optional(),
      })
      .strict()
      .refine((e) => e.body === undefined || e.text === undefined, { message: 'give the new text as text or as body, not both', path: ['body'] })
      .transform(({ body, ...e }) => (body === undefined ? e : { ...e, text: body }))
      .optional(),
    note: z.string().trim().max(2000).optional().describe('Optional note kept with the approval'),
  },
  output: reviewDetail.shape,
  handler: async ({ message_id, edits, note }, call) =>
    toReviewDetail(await approveItemInSession(call, message_id, { edits: edits ?? null, note: note ?? null })),
});
