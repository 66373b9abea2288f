/** Input pieces shared by several tools, so every tool validates the same field the same way. */
import * as z from 'zod';
import { EmailAddress, headerText } from '../src/values.js';

export const MAX_TEXT = 500_000;
export const MAX_HTML = 1_000_000;

export const mailboxField = EmailAddress.describe('The mailbox address, e.g. agent@mailgate.test (the server instructions list them; an unknown one is answered with the valid ones)');
export const bodyText = z.string().max(MAX_TEXT, { error: `text is longer than ${MAX_TEXT} characters; shorten it or send a link` });
export const bodyHtml = z.string().max(MAX_HTML, { error: `html is longer than ${MAX_HTML} characters; shorten it` });
export const idempotencyKey = z
  .string()
  .trim()
  .min(1)
  .max(200, { error: 'idempotency_key is longer than 200 characters' })
  .describe('Optional. Retrying with the same key and content returns the same message instead of sending twice');
export const subjectField = headerText('subject');
export const limitField = (max: number, dflt: number) => z.number().int().min(1).max(max, { error: `limit is at most ${max}` }).default(dflt);
export const folderField = headerText('folder', 200).refine((s) => s.trim().length > 0, { error: 'folder is empty' });
