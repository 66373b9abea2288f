/**
 * Which transport serves which mailbox: the sandbox for mailboxes without an account, IMAP and SMTP for
 * those the config gave an account. A process without a mailbox's account (a CLI run without the config
 * file) cannot serve it, and its delivery worker leaves that mailbox's mail to a process that can.
 */
import type { MailAccount } from '../config/accounts.js';
import { log } from '../log.js';
import type { Mailbox, Store } from '../store/store.js';
import { ImapMailbox } from './imap/mailbox.js';
import type { Transport, TransportRegistry } from './ports.js';
import { sandboxTransport } from './sandbox.js';
import { SmtpSender } from './smtp.js';

export interface RealTransport extends Transport {
  readonly mailbox: ImapMailbox;
  close(): Promise<void>;
}

export class MailRegistry implements TransportRegistry {
  private sandbox: Transport | undefined;
  private readonly real = new Map<string, RealTransport>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    private readonly accounts: ReadonlyMap<string, MailAccount>,
    /** Called when a watched INBOX synced new changes. */
    private readonly onMail: () => void = () => undefined,
  ) {}

  canServe(mailbox: Mailbox): boolean {
    return mailbox.transport === 'sandbox' || this.accounts.has(mailbox.address);
  }

  forMailbox(mailbox: Mailbox): Transport {
    if (mailbox.transport === 'sandbox') return (this.sandbox ??= sandboxTransport(this.store, this.clock));
    const existing = this.real.get(mailbox.address);
    if (existing) return existing;
    const account = this.accounts.get(mailbox.address);
    if (!account) throw new Error(`no imap/smtp account for ${mailbox.address} in this process's config; start mailgate with the config file that has it`);
    const transport = realTransport(account, this.store, this.clock);
    transport.mailbox.onChange(this.onMail);
    this.real.set(mailbox.address, transport);
    return transport;
  }

  /** Starts IDLE watchers for every real mailbox (long-running servers only). */
  async watchAll(): Promise<void> {
    for (const account of this.accounts.values()) {
      const mb = await this.store.getMailbox(account.address);
      if (mb) await (this.forMailbox(mb) as RealTransport).mailbox.watch();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.real.values()].map((t) => t.close()));
    this.real.clear();
  }
}

function realTransport(account: MailAccount, store: Store, clock: () => number): RealTransport {
  const smtp = new SmtpSender(account.smtp, account.displayName, { connectionTimeoutMs: account.smtp.timeoutMs, socketTimeoutMs: account.smtp.timeoutMs });
  const mailbox = new ImapMailbox(account, store, clock);
  return {
    mailbox,
    sender: {
      idempotent: false,
      async send(message, hooks) {
        const receipt = await smtp.send(message, hooks);
        if (account.imap.saveSent) {
          // The send has happened; a failed Sent copy is logged and recorded, never a reason to resend.
          try {
            await mailbox.appendSent(receipt.raw);
            receipt.detail.sent_copy = 'appended';
          } catch (err) {
            log('warn', 'could not append the sent message to the Sent folder', { mailbox: account.address, error: String(err) });
            receipt.detail.sent_copy = `failed: ${String(err)}`;
          }
        }
        const { raw: _raw, ...rest } = receipt;
        return rest;
      },
    },
    async close() {
      smtp.close();
      await mailbox.close();
    },
  };
}
