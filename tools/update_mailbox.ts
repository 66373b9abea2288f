import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { updateMailbox } from '../src/services/mailboxes.js';
import { EmailAddress, headerText } from '../src/values.js';
import { modeFields } from './mode-inputs.js';
import { mailboxShape, toMailbox } from './shapes.js';

export default defineTool({
  name: 'update_mailbox',
  dottedName: 'mailbox.update',
  title: 'Change a mailbox',
  description:
    "Change a mailbox's oversight mode, rules, pending expiry or name. change_reason is required and audited. " +
    'Mail already held stays held: a looser mode applies only to new actions. A stricter mode also takes back mail ' +
    'the gate had let go but not yet sent (held again, or cancelled under read_only); human approvals stand. ' +
    'In a session that can also send mail, a loosening (looser mode, new rules, policy) waits for the person to confirm it in their ' +
    'client (a one-time link); if the client cannot ask them, the error gives the command that makes the change.',
  access: 'admin',
  input: {
    address: EmailAddress,
    display_name: headerText('display_name', 200).optional(),
    ...modeFields,
    change_reason: z.string().trim().min(1, { error: 'change_reason is empty; say why, it is kept in the audit log' }).max(2000),
  },
  output: {
    ...mailboxShape.shape,
    changed: z.array(z.string()),
    pending_unaffected: z.number().int(),
    retaken: z.number().int().describe('Mail the gate had let go but not yet sent, held again (or cancelled under read_only) because the mode tightened'),
  },
  handler: async ({ pending_ttl, ...rest }, call) => {
    const r = await updateMailbox(call.ctx, call.principal, { ...rest, pending_ttl_seconds: pending_ttl }, call);
    return { ...toMailbox(r.mailbox), changed: r.changed, pending_unaffected: r.pending_unaffected, retaken: r.retaken ?? 0 };
  },
});
