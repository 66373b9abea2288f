import * as z from 'zod';
import { invalid } from '../src/errors.js';
import { defineTool } from '../src/mcp/define-tool.js';
import { searchEmail } from '../src/services/inbox.js';
import { folderField, limitField, mailboxField } from './inputs.js';
import { emailSummary, toSummary } from './shapes.js';

const part = (what: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `${what} is empty; leave it out or give text to match` })
    .max(500);
const day = (what: string) =>
  z
    .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: `${what} is an ISO date such as 2026-03-01 or 2026-03-01T09:00:00Z` })
    .describe(`${what === 'since' ? 'On or after' : 'Before'} this ISO date or date-time (the email's Date header)`);

/** An ISO date or date-time as epoch ms; a bare date is midnight UTC. */
const ms = (field: string, iso: string | undefined): number | undefined => {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw invalid(field, `${field}: '${iso}' is not a date; use an ISO date such as 2026-03-01`);
  return t;
};

export default defineTool({
  name: 'search_email',
  dottedName: 'mail.search',
  title: 'Search a mailbox',
  description:
    'Find emails in a mailbox, newest first: where every word of the query starts a word in the sender, recipients, ' +
    'subject or text (case-insensitive), and/or by filters (from, to, subject: text contained; since, before: ISO dates; ' +
    'unread, flagged, has_attachment: true or false). Give a query, filters, or both. source says whether the local ' +
    "index answered alone or the mail server was also asked; indexed / total say how many of the folder's messages " +
    'the local index holds (null for a sandbox mailbox, which is always fully indexed); note says when a filter ' +
    'could only be checked on part of the folder.',
  access: 'read',
  untrustedContent: true,
  input: {
    mailbox: mailboxField,
    query: z.string().trim().min(1, { error: 'query is empty; give words to search for, or leave it out and use filters' }).max(500).optional(),
    from: part('from').optional().describe("Text the sender's address or name contains"),
    to: part('to').optional().describe('Text a To recipient contains'),
    subject: part('subject').optional().describe('Text the subject contains'),
    since: day('since').optional(),
    before: day('before').optional(),
    unread: z.boolean().optional().describe('true: unread only; false: read only'),
    flagged: z.boolean().optional().describe('true: flagged (starred) only; false: not flagged'),
    has_attachment: z.boolean().optional().describe('true: with attachments only; false: without'),
    folder: folderField.optional().describe('Limit to one folder; every synced folder when omitted'),
    limit: limitField(100, 20),
  },
  output: {
    emails: z.array(emailSummary),
    source: z.enum(['cache', 'cache+server']),
    indexed: z.number().int().nullable().describe('Messages of the folder whose text the local index holds'),
    total: z.number().int().nullable().describe('Messages in the folder on the server at the last sync'),
    note: z.string().optional(),
  },
  handler: async (args, { ctx, principal }) => {
    const filters = {
      from: args.from,
      to: args.to,
      subject: args.subject,
      since: ms('since', args.since),
      before: ms('before', args.before),
      unread: args.unread,
      flagged: args.flagged,
      has_attachment: args.has_attachment,
    };
    const r = await searchEmail(ctx, principal, { mailbox: args.mailbox, query: args.query, folder: args.folder, filters, limit: args.limit });
    return { emails: r.emails.map(toSummary), source: r.source, indexed: r.indexed, total: r.total, ...(r.note ? { note: r.note } : {}) };
  },
});
