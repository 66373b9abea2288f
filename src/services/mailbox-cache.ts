/** The inbox cache of a mailbox, for every service that reads a real mailbox's mail through it. */
import { MailgateError } from '../errors.js';
import type { Mailbox } from '../store/store.js';
import type { AppContext } from './context.js';
import { type InboxCache, inboxCacheFor } from './inbox-cache.js';

/** Undefined for a sandbox mailbox, whose mail is in the store already; refused for an account this process lacks. */
export function cacheFor(ctx: AppContext, mailbox: Mailbox): InboxCache | undefined {
  if (!ctx.transports.canServe(mailbox)) {
    throw new MailgateError(
      'UNAVAILABLE',
      `mailbox ${mailbox.address} has an IMAP account this process was not given; start mailgate with the config file that has it`,
      { field: 'mailbox' },
    );
  }
  return inboxCacheFor(ctx.store, ctx.clock, mailbox.address, ctx.transports.forMailbox(mailbox));
}
