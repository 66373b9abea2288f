/** Input pieces shared by several tools, so every tool validates the same field the same way. */
import * as z from 'zod';
import { DECISION_TYPES, EmailAddress, headerText } from '../src/values.js';
import { filenameProblem } from '../src/text/invisible.js';

const MAX_TEXT = 500_000;
const MAX_HTML = 1_000_000;

export const mailboxField = EmailAddress.describe(
  'The mailbox address, e.g. agent@mailgate.test (the server instructions list them; an unknown one is answered with the valid ones)',
);
export const bodyText = z.string().max(MAX_TEXT, { error: `text is longer than ${MAX_TEXT} characters; shorten it or send a link` });
export const bodyHtml = z.string().max(MAX_HTML, { error: `html is longer than ${MAX_HTML} characters; shorten it` });
export const idempotencyKey = z
  .string()
  .trim()
  .min(1)
  .max(200, { error: 'idempotency_key is longer than 200 characters' })
  .describe('Optional. Retrying with the same key and content returns the same message instead of sending twice');
export const subjectField = headerText('subject');
export const limitField = (max: number, dflt: number) =>
  z
    .number()
    .int()
    .min(1)
    .max(max, { error: `limit is at most ${max}` })
    .default(dflt);
export const folderField = headerText('folder', 200).refine((s) => s.trim().length > 0, { error: 'folder is empty' });

/** Hard ceiling on one request's attachments (the mailbox policy usually allows far less: README "Policy"). */
const MAX_ATTACHMENT_BASE64 = 48 * 1024 * 1024;

/**
 * Attachments as base64 bytes with a plain file name. No path or URL forms exist, so an agent can never make
 * the server read a local file or fetch a URL; the bytes given are the bytes sent.
 */
export const attachmentsField = z
  .array(
    z
      .object({
        filename: z
          .string()
          .trim()
          .min(1, { error: 'filename is empty' })
          .max(255, { error: 'filename is longer than 255 characters' })
          // Control, invisible and bidi characters or separators could disguise the name or make it a path: refused, not rewritten.
          .superRefine((f, ctx) => {
            const problem = filenameProblem(f);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
        content_base64: z
          .string()
          .max(MAX_ATTACHMENT_BASE64, { error: 'attachment is too large for one request' })
          .refine(isBase64, { error: 'content_base64 is not complete base64 (standard alphabet, padded to a multiple of 4 characters)' }),
        content_type: z
          .string()
          .trim()
          .regex(/^[\w.+-]+\/[\w.+-]+$/, { error: "content_type must be a MIME type such as 'application/pdf'" })
          .optional(),
      })
      .strict(),
  )
  .max(100, { error: 'at most 100 attachments in one message' })
  .refine((list) => list.reduce((n, a) => n + a.content_base64.length, 0) <= MAX_ATTACHMENT_BASE64, {
    error: 'attachments together are too large for one request',
  })
  .transform((list) => list.map((a) => ({ filename: a.filename, content_type: a.content_type, content: Buffer.from(a.content_base64, 'base64') })))
  .describe('Files to attach: [{ filename, content_base64, content_type? }]. The mailbox policy limits count and size.');

/** Strict standard base64: a truncated or mangled string is refused rather than decoded into other bytes. */
function isBase64(value: string): boolean {
  const b = value.replace(/[\r\n \t]/g, '');
  return b.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(b) && !/=[^=]/.test(b);
}

/** Key/value pairs kept with an outbound message (never sent): shown to reviewers, in the audit log and webhooks. */
export const metadataField = z
  .record(z.string(), z.union([z.string().max(1000), z.number(), z.boolean()]))
  .refine((m) => Object.keys(m).length <= 20, { error: 'metadata has more than 20 keys' })
  .describe('Optional key/value pairs kept with the message (not sent)');

/** The GDPR Art. 22 mark of a draft that states an automated decision about a person (kept in its metadata). */
export const decisionFields = {
  automated_decision: z
    .boolean()
    .optional()
    .describe('True when this email states a decision about a person made by automated means (GDPR Art. 22); a person may have to review it'),
  decision_type: z.enum(DECISION_TYPES).optional().describe('With automated_decision: what kind of decision it is'),
};
