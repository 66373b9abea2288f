import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { deleteEmail } from '../src/services/delete-email.js';
import { EmailId } from '../src/values.js';
import { actionResultShape, compact } from './shapes.js';

export default defineTool({
  name: 'delete_email',
  dottedName: 'mail.delete',
  title: 'Delete an email',
  description:
    "Move an email to the mailbox's Trash folder, or with permanent: true delete it for good (only where the mailbox's " +
    'policy allows permanent delete; otherwise refused as blocked). A write: in gated_all mode it is held for approval ' +
    '("pending", with an action_id that list_pending, get_message and mail_wait take), in read_only mode it is refused. ' +
    'status "applied" means the mailbox has it.',
  access: 'write',
  input: {
    email_id: EmailId,
    permanent: z.boolean().default(false).describe('Delete for good instead of moving to the Trash; needs policy allow_permanent_delete'),
  },
  output: actionResultShape,
  handler: async (args, { ctx, principal }) => compact({ ...(await deleteEmail(ctx, principal, args)), email_id: args.email_id }),
});
