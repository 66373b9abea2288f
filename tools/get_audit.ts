import * as z from 'zod';
import { defineTool } from '../src/mcp/define-tool.js';
import { auditTrail, messageMetadata } from '../src/services/review.js';
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
  output: {
    events: z.array(auditEvent),
    metadata: z
      .record(z.string(), z.unknown())
      .nullable()
      .optional()
      .describe("message_id only: the message's metadata (the send's key/value pairs, the Art. 22 mark)"),
  },
  handler: async (args, { ctx, principal }) => {
    const events = (await auditTrail(ctx, principal, args)).map(toAuditEvent);
    return args.message_id ? { events, metadata: await messageMetadata(ctx, principal, args.message_id) } : { events };
  },
});
