import { defineTool } from '../src/mcp/define-tool.js';
import { createMailbox } from '../src/services/mailboxes.js';
import { EmailAddress, headerText } from '../src/values.js';
import { modeFields } from './mode-inputs.js';
import { mailboxShape, toMailbox } from './shapes.js';

export default defineTool({
  name: 'create_mailbox',
  dottedName: 'mailbox.create',
  title: 'Create a mailbox',
  description:
    'Create a sandbox mailbox with an oversight mode (default gated_send). Mail between sandbox mailboxes is delivered locally. ' +
    'In a session that can also send mail, a mailbox looser than gated_send (or with rules or policy) needs the person to confirm it, as update_mailbox.',
  access: 'admin',
  input: {
    address: EmailAddress,
    display_name: headerText('display_name', 200).optional(),
    ...modeFields,
  },
  output: mailboxShape.shape,
  handler: async ({ pending_ttl, ...rest }, call) =>
    toMailbox(await createMailbox(call.ctx, call.principal, { ...rest, pending_ttl_seconds: pending_ttl }, call)),
});
