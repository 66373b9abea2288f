/**
 * The operator's delivery commands: `mailbox resume` (lift a pause for a configuration problem) and
 * `resolve` (answer an outcome_unknown after checking the recipient's side or the server's logs).
 */
import type { App } from '../app.js';
import { invalid } from '../errors.js';
import type { Principal } from '../services/context.js';
import { resolveMessage, resumeDeliveries } from '../services/delivery-control.js';
import type { Mailbox } from '../store/store.js';
import { EmailAddress, MessageId } from '../values.js';
import { printJson, printLine } from './output.js';

export interface DeliveryFlags {
  json?: boolean | undefined;
  reason?: string | undefined;
  delivered?: boolean | undefined;
  'not-delivered'?: boolean | undefined;
}

export async function mailboxResumeCommand(app: App, who: Principal, args: string[], flags: DeliveryFlags): Promise<void> {
  const parsed = EmailAddress.safeParse(args[0] ?? '');
  if (!parsed.success) throw invalid('address', 'give the mailbox to resume, e.g. mailgate mailbox resume agent@example.com');
  const r = await resumeDeliveries(app, who, parsed.data, flags.reason?.trim() || 'resumed by an operator');
  if (flags.json) return printJson({ mailbox: parsed.data, ...r });
  printLine(r.resumed ? `resumed deliveries of ${parsed.data}; queued mail goes out now` : `${parsed.data} was not paused; nothing to do`);
}

export async function resolveCommand(app: App, who: Principal, args: string[], flags: DeliveryFlags): Promise<void> {
  const id = MessageId.safeParse(args[0] ?? '');
  if (!id.success) throw invalid('message id', 'give the message to resolve, e.g. mailgate resolve msg_... --delivered --reason "..."');
  if (!!flags.delivered === !!flags['not-delivered']) throw invalid('--delivered', 'give exactly one of --delivered or --not-delivered');
  if (!flags.reason?.trim()) throw invalid('--reason', 'say how you know, e.g. --reason "found in the recipient\'s inbox"');
  const m = await resolveMessage(app, who, id.data, { delivered: !!flags.delivered, reason: flags.reason });
  if (flags.json) return printJson({ message_id: m.message_id, status: m.status, last_error: m.last_error });
  printLine(
    m.status === 'sent'
      ? `${m.message_id}: sent (resolved as delivered)`
      : `${m.message_id}: failed (resolved as not delivered); to send it, draft it again: it needs its own approval`,
  );
}

/** How a mailbox's deliveries stand, for listings: `paused: REASON`, `held until TIME` (the breaker) or `running`. */
export function deliveryStatus(mb: Mailbox, now: number): string {
  if (mb.delivery_paused_at != null) return `paused since ${new Date(mb.delivery_paused_at).toISOString()}: ${mb.delivery_paused_reason ?? ''}`;
  if (mb.delivery_held_until != null && mb.delivery_held_until > now) return `held until ${new Date(mb.delivery_held_until).toISOString()} (repeated 4xx)`;
  return 'running';
}
