import * as z from 'zod';
import { invalid } from '../src/errors.js';
import { defineTool } from '../src/mcp/define-tool.js';
import { tagEmail } from '../src/services/inbox.js';
import { EmailId, headerText } from '../src/values.js';
import { folderField } from './inputs.js';
import { actionResultShape, compact } from './shapes.js';

const flag = headerText('flag', 100).refine((f) => /^\\?[A-Za-z0-9$_-]+$/.test(f), {
  error: 'a flag is one word such as \\Seen, \\Flagged or a keyword like followup',
});

export default defineTool({
  name: 'tag_email',
  dottedName: 'mail.tag',
  title: 'Flag or move an email',
  description:
    'Change an email\'s flags (e.g. add "\\Seen" to mark read, "\\Flagged" to star) and/or move it to another folder. ' +
    'A write: in gated_all mode it is held for approval ("pending", with an action_id that list_pending, get_message and mail_wait take), ' +
    'in read_only mode it is refused. status "applied" means the mailbox has it.',
  access: 'write',
  input: {
    email_id: EmailId,
    add_flags: z.array(flag).max(20).default([]),
    remove_flags: z.array(flag).max(20).default([]),
    move_to: folderField.optional().describe('Folder to move the email to, e.g. Archive'),
  },
  output: actionResultShape,
  handler: async (args, { ctx, principal }) => {
    if (!args.add_flags.length && !args.remove_flags.length && !args.move_to) {
      throw invalid('add_flags', 'nothing to do; give add_flags, remove_flags or move_to');
    }
    return compact({ ...(await tagEmail(ctx, principal, args)), email_id: args.email_id });
  },
});
