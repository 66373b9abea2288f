/**
 * The quoted original under a reply's text (src/text/quote.ts), per call (`quote`) or by the config's
 * `reply_quote`. The quote is part of the draft, so the reviewer approves exactly what the recipient gets, and
 * the gate checks it like the rest of the text. What is quoted is what a reader of the original sees: its HTML
 * converted, hidden text left out, as read_email shows it. The HTML part is left as the agent wrote it: quoting
 * the original's HTML would carry its styles, tracking images and hidden text into the reply.
 */
import { MailgateError } from '../errors.js';
import type { InboundEmail } from '../store/store.js';
import { bodyView } from '../text/inbound.js';
import { withQuote } from '../text/quote.js';
import type { AppContext, Principal } from './context.js';
import { inboxCacheFor } from './inbox-cache.js';
import { getEmailOrThrow, getMailboxOrThrow } from './scope.js';

/** The reply text with the original quoted under it, or the text as given when quoting is off or there is no text. */
export async function quotedReplyText(ctx: AppContext, who: Principal, parent: InboundEmail, text: string | undefined, quote: boolean | undefined) {
  if (text === undefined || !(quote ?? ctx.settings.replyQuote !== 'none')) return text;
  const email = await withBodyOf(ctx, who, parent);
  return withQuote(text, { from_addr: email.from_addr, from_name: email.from_name, date: email.date, text: bodyView(email.text, email.html).text });
}

/**
 * The parent with its body: an IMAP email synced as an envelope only is fetched from the server first (once).
 * As inbox.ts's withBody, which this module cannot import: inbox.ts imports send.ts, which imports this.
 */
async function withBodyOf(ctx: AppContext, who: Principal, email: InboundEmail): Promise<InboundEmail> {
  if (email.has_body) return email;
  const mailbox = await getMailboxOrThrow(ctx, who, email.mailbox);
  if (!ctx.transports.canServe(mailbox)) {
    throw new MailgateError(
      'UNAVAILABLE',
      `the original of this reply is in ${mailbox.address}, whose IMAP account this process was not given, so it cannot be quoted; ` +
        'reply with quote: false, or start mailgate with the config file that has the account',
      { field: 'quote' },
    );
  }
  const cache = inboxCacheFor(ctx.store, ctx.clock, mailbox.address, ctx.transports.forMailbox(mailbox));
  if (!cache) return email;
  await cache.foreground(() => cache.loadBodies(email.folder, [email]));
  return getEmailOrThrow(ctx, who, email.email_id);
}
