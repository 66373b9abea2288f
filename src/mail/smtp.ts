/**
 * The SMTP sender: a pooled nodemailer transport per account, sending a message we composed ourselves with
 * an explicit envelope. The message body is handed over as a stream whose end we hold back until the
 * delivery has been marked `transmitting` in the store: nodemailer writes the final "." only after the
 * stream ends, so a crash before the mark is known to be safe to retry, and only the narrow window between
 * the final dot and recording the server's reply is ambiguous (outcome_unknown, never resent).
 */
import { Readable } from 'node:stream';
import nodemailer, { type Mail } from 'nodemailer';
import type { ServerAccount } from '../config/accounts.js';
import type { OutboundMessage } from '../store/store.js';
import { composeMessage } from './compose.js';
import { DeliveryError, type SendHooks, type SendReceipt } from './ports.js';

export interface SmtpOptions {
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

export class SmtpSender {
  readonly idempotent = false;
  private readonly transport: Mail;

  constructor(private readonly account: ServerAccount, private readonly displayName: string | null, opts: SmtpOptions = {}) {
    const auth = 'accessToken' in account.auth
      ? { type: 'OAuth2' as const, user: account.auth.user, accessToken: account.auth.accessToken }
      : { user: account.auth.user, pass: account.auth.pass };
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 2,
      host: account.host,
      port: account.port,
      secure: account.secure,
      requireTLS: account.requireStartTls,
      auth,
      tls: { rejectUnauthorized: account.rejectUnauthorized, ...(account.ca ? { ca: account.ca } : {}) },
      connectionTimeout: opts.connectionTimeoutMs ?? 30_000,
      greetingTimeout: opts.connectionTimeoutMs ?? 30_000,
      socketTimeout: opts.socketTimeoutMs ?? 60_000,
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
  }

  async send(message: OutboundMessage, hooks: SendHooks): Promise<SendReceipt & { raw: Buffer }> {
    const { raw, envelope } = await composeMessage(message, this.displayName);
    let finalDot = false;
    const body = heldBackStream(raw, async () => {
      await hooks.beforeFinalDot();
      finalDot = true;
    });
    try {
      const info = await this.transport.sendMail({ envelope, raw: body });
      const rejected = (info.rejected ?? []).map(String);
      return {
        accepted: (info.accepted ?? []).map(String),
        captured: [],
        raw,
        detail: { transport: 'smtp', response: info.response, rejected, message_id_header: message.message_id_header },
      };
    } catch (err) {
      throw classify(err, finalDot);
    }
  }

  close(): void {
    this.transport.close();
  }
}

/**
 * Classifies an SMTP failure (RFC 5321 §4.2.1: 4yz transient, 5yz permanent). A connection lost after the
 * final dot leaves the outcome unknown: the server may have accepted the message.
 */
export function classify(err: unknown, afterFinalDot: boolean): DeliveryError {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  const reply = e.response ? `: ${e.response}` : '';
  if (e.code === 'EAUTH') return new DeliveryError(`SMTP authentication failed${reply}; check the smtp credentials`, 'permanent');
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return new DeliveryError(`SMTP ${e.responseCode}${reply}`, 'permanent');
    if (e.responseCode >= 400) return new DeliveryError(`SMTP ${e.responseCode}${reply}`, 'transient');
  }
  const what = `${e.code ?? 'error'}: ${e.message ?? String(err)}`;
  if (afterFinalDot) return new DeliveryError(`connection lost after the message was transmitted (${what}); it may have been delivered`, 'unknown_outcome');
  return new DeliveryError(`SMTP connection failed (${what})`, 'transient');
}

/** A stream of `raw` that awaits `beforeEnd` before signalling its end (and so before the final dot). */
function heldBackStream(raw: Buffer, beforeEnd: () => Promise<void>): Readable {
  let sent = false;
  let ending = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(raw);
        return;
      }
      if (ending) return;
      ending = true;
      beforeEnd().then(() => this.push(null), (err: unknown) => this.destroy(err as Error));
    },
  });
}
