/** What every service receives: the store, the clock, the transports, the settings, and who is asking. */
import type { EventEmitter } from 'node:events';
import { MailgateError } from '../errors.js';
import type { PolicySettings } from '../gate/policy/settings.js';
import type { TransportRegistry } from '../mail/ports.js';
import type { Store } from '../store/store.js';
import type { Role } from '../values.js';
import type { DeliveryWorker } from './deliver.js';

interface Settings {
  requireApproval: boolean;
  toolNames: 'snake_case' | 'dotted';
  /** The global policy settings (config `policy`); each mailbox's own settings apply over them. */
  policy: PolicySettings;
  /** Config `testing.allow_short_ttl`: a pending_ttl under the 1 hour floor is accepted (test suites only). */
  allowShortTtl?: boolean;
  /**
   * Config `approvals.confirm_with`: the elicitation channels accepted as a person's confirmation when a session
   * that can draft approves its mail or loosens a mailbox (the CLI and sessions without the agent role need none).
   * Unset: ['url'].
   */
  confirmWith?: readonly ConfirmWith[];
  /** Config `reply_quote`: whether reply_email quotes the original by default. Unset: 'quote'. */
  replyQuote?: 'quote' | 'none';
}

export type ConfirmWith = 'url' | 'form';

export interface AppContext {
  store: Store;
  clock: () => number;
  transports: TransportRegistry;
  settings: Settings;
  worker: DeliveryWorker;
  /**
   * Signal that mail state may have changed (new mail synced, a message held, decided or delivered), so waiters
   * (mail_wait, the dashboard's live queue) look again at once instead of at their next poll. In servers it
   * carries the store's change signals (Store.onChange): other instances' changes on PostgreSQL too; other
   * processes on a SQLite file are still found by the poll.
   */
  changes: EventEmitter;
}

/**
 * The mailboxes a principal may act on: 'all', or the addresses it is bound to (a token's `--mailbox`, or
 * `serve --mailbox`). Enforced by the services (src/services/scope.ts), not by tool lists.
 */
export type MailboxScope = 'all' | readonly string[];

/** Who is acting: recorded on every audit event. `roles` and `mailboxes` decide what the services allow. */
export interface Principal {
  id: string;
  roles: readonly Role[];
  mailboxes: MailboxScope;
  /** The tool, page or command the principal is using, named in authz.denied audit events. */
  via?: string | undefined;
}

/**
 * Services check roles too, so a tool wired to the wrong role still cannot act (defence in depth). A refusal is
 * audited as authz.denied.
 */
export async function requireRole(ctx: AppContext, principal: Principal, allowed: readonly Role[], what: string): Promise<void> {
  if (principal.roles.some((r) => allowed.includes(r))) return;
  await ctx.store.recordDenial({ actor: principal.id, via: principal.via ?? null, reason: `role: ${what}`, roles: principal.roles }, ctx.clock());
  throw new MailgateError(
    'FORBIDDEN',
    `${what} needs the ${allowed.join(' or ')} role; this session is ${principal.roles.join(', ')}. A human can do it with the mailgate CLI.`,
  );
}
