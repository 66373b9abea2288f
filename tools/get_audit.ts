import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { auditTrail } from '../src/services/review.js';
import { ReviewId } from '../src/values.js';
import { limitField, mailboxField } from './inputs.js';
import { auditEvent, toAuditEvent } from './shapes.js';

export default defineTool({
  name: 'get_audit',
  dottedName: 'audit.list',
  title: 'Read the audit log',
  description: 'Audit events (oldest first within the page): for one message (message_id), one mailbox, or the newest overall.',
  access: 'audit',
  input: {
    message_id: ReviewId.optional(),
    mailbox: mailboxField.optional(),
    limit: limitField(1000, 100),
  },
  output: { events: z.array(auditEvent) },
  handler: async (args, { ctx, principal }) => ({ events: (await auditTrail(ctx, principal, args)).map(toAuditEvent) }),
});
