/** What every service receives: the store, the clock, the transports, the settings, and who is asking. */
import type { EventEmitter } from 'node:events';
import { MailgateError } from '../errors.js';
import type { PolicySettings } from '../gate/policy/settings.js';
import type { TransportRegistry } from '../mail/ports.js';
import type { Store } from '../store/store.js';
import type { Role } from '../values.js';
import type { DeliveryWorker } from './deliver.js';

export interface Settings {
  requireApproval: boolean;
  toolNames: 'snake_case' | 'dotted';
  /** The global policy settings (config `policy`); each mailbox's own settings apply over them. */
  policy: PolicySettings;
}

export interface AppContext {
  store: Store;
  clock: () => number;
  transports: TransportRegistry;
  settings: Settings;
  worker: DeliveryWorker;
  /**
   * In-process signal that mail state may have changed (new mail synced, a delivery recorded), so waiters
   * (mail_wait) look again at once instead of at their next poll. Changes made by other processes are still
   * found by the poll.
   */
  changes: EventEmitter;
}

/** Who is acting: recorded on every audit event. `roles` decide what the services allow. */
export interface Principal {
  id: string;
  roles: readonly Role[];
}

/** Services check roles too, so a tool wired to the wrong role still cannot act (defence in depth). */
export function requireRole(principal: Principal, allowed: readonly Role[], what: string): void {
  if (!principal.roles.some((r) => allowed.includes(r))) {
    throw new MailgateError('FORBIDDEN',
      `${what} needs the ${allowed.join(' or ')} role; this session is ${principal.roles.join(', ')}. A human can do it with the mailgate CLI.`);
  }
}
