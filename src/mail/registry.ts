/**
 * Which transport serves which mailbox: the sandbox for mailboxes without an account, IMAP and SMTP for
 * those the config gave an account. A process without a mailbox's account (a CLI run without the config
 * file) cannot serve it, and its delivery worker leaves that mailbox's mail to a process that can.
 */
import type { MailAccount } from '../config/accounts.js';
import { log } from '../log.js';
import type { Mailbox } from '../store/store.js';
import { ImapMailbox } from './imap/mailbox.js';
import type { Transport, TransportRegistry } from './ports.js';
import { SmtpSender } from './smtp.js';

export interface RealTransport extends Transport {
  readonly mailbox: ImapMailbox;
  close(): Promise<void>;
}

export class MailRegistry implements TransportRegistry {
  private readonly real = new Map<string, RealTransport>();

  constructor(
    private readonly accounts: ReadonlyMap<string, MailAccount>,
    /** The sandbox transport (src/services/sandbox.ts): a store write, so built by the services layer. */
    private readonly sandbox: Transport,
  ) {}

  canServe(mailbox: Mailbox): boolean {
    return mailbox.transport === 'sandbox' || this.accounts.has(mailbox.address);
  }

  forMailbox(mailbox: Mailbox): Transport {
    if (mailbox.transport === 'sandbox') return this.sandbox;
    const existing = this.real.get(mailbox.address);
    if (existing) return existing;
    const account = this.accounts.get(mailbox.address);
    if (!account) throw new Error(`no imap/smtp account for ${mailbox.address} in this process's config; start mailgate with the config file that has it`);
    const transport = realTransport(account);
    this.real.set(mailbox.address, transport);
    return transport;
  }

  async close(): Promise<void> {
    await Promise.all([...this.real.values()].map((t) => t.close()));
    this.real.clear();
  }
}

function realTransport(account: MailAccount): RealTransport {
  const smtp = new SmtpSender(account.smtp, account.displayName, { connectionTimeoutMs: account.smtp.timeoutMs, socketTimeoutMs: account.smtp.timeoutMs });
  const mailbox = new ImapMailbox(account);
  return {
    mailbox,
    sender: {
      idempotent: false,
      settingsDigest: (salt) => smtp.settingsDigest(salt),
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
