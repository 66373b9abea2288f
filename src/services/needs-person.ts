/**
 * Changes no MCP tool offers (removing a suppression, managing tokens and webhooks: a webhook could carry every
 * held message to whoever runs it): a principal that can draft is refused outright, with the command a person
 * runs. A module of its own so the services that use it need not import the confirmation flow (confirm-change.ts,
 * which imports review.ts, which imports policy.ts, one of those users).
 */
import { canDraftAndDecide } from '../auth/principal.js';
import { MailgateError } from '../errors.js';
import { shellQuote } from '../text/shell.js';
import type { Principal } from './context.js';

export function refuseIfCanDraft(who: Principal, what: string, cliArgs: readonly string[]): void {
  if (!canDraftAndDecide(who.roles)) return;
  throw new MailgateError(
    'CONFIRMATION_REQUIRED',
    `this principal can draft mail, so ${what} needs a person; nothing changed. The person runs: ${['mailgate', ...cliArgs].map(shellQuote).join(' ')}`,
  );
}
