/**
 * The SMTP sender. It drives nodemailer's SMTPConnection directly rather than a pooled transport: the pool
 * starts reading the message stream before MAIL FROM and may re-read it on another connection, and we need
 * the opposite. SMTPConnection pipes the message only after the server's 354 to DATA; we feed it in chunks
 * (so backpressure holds the end back until the body has drained into the socket) and hold the stream's end
 * until the delivery has been marked `transmitting` in the store. nodemailer writes the final "." only after
 * the stream ends, so a crash before the mark is safe to retry, and only the window between the final dot
 * and recording the reply is ambiguous (outcome_unknown, never resent). One idle connection per account is
 * kept for reuse; a reused connection that fails before the mark is replaced and the send retried once.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { ServerAccount } from '../config/accounts.js';
import type { OutboundMessage } from '../store/store.js';
import { composeMessage } from './compose.js';
import { runtimeHint } from './connection-hints.js';
import { credentialsFingerprint, smtpAuth, tokenFailureOf } from './oauth2/auth.js';
import { DeliveryError, type SendHooks, type SendReceipt } from './ports.js';

export interface SmtpOptions {
  connectionTimeoutMs?: number;
  socketTimeoutMs?: number;
}

const CHUNK = 16 * 1024;
const IDLE_REUSE_MS = 30_000;

export class SmtpSender {
  readonly idempotent = false;
  private idle: { conn: SMTPConnection; since: number } | undefined;
  private readonly pending = new WeakMap<SMTPConnection, { fail?: ((err: unknown) => void) | undefined }>();

  constructor(
    private readonly account: ServerAccount,
    private readonly displayName: string | null,
    private readonly opts: SmtpOptions = {},
  ) {}

  async send(message: OutboundMessage, hooks: SendHooks): Promise<SendReceipt & { raw: Buffer }> {
    const { raw, envelope } = await composeMessage(message, this.displayName);
    const reused = this.takeIdle();
    if (reused) {
      const first = await this.attempt(reused, raw, envelope, hooks);
      // A stale pooled connection fails before anything was transmitted: try once more on a fresh one.
      if (!('error' in first) || first.transmitted || !isConnectionError(first.error)) return this.finish(first, raw, message);
    }
    return this.finish(await this.attempt(await this.connect(), raw, envelope, hooks), raw, message);
  }

  settingsDigest(salt: string): string {
    const a = this.account;
    const secret = credentialsFingerprint(a.auth);
    return createHash('sha256')
      .update(JSON.stringify([salt, a.host, a.port, a.secure, a.requireStartTls, a.rejectUnauthorized, a.ca?.toString('base64') ?? null, a.auth.user, secret]))
      .digest('hex');
  }

  close(): void {
    this.idle?.conn.quit();
    this.idle = undefined;
  }

  private finish(r: Attempt, raw: Buffer, message: OutboundMessage): SendReceipt & { raw: Buffer } {
    if ('error' in r) throw classify(r.error, r.transmitted);
    return {
      accepted: r.info.accepted.map(String),
      captured: [],
      raw,
      detail: {
        transport: 'smtp',
        response: r.info.response,
        rejected: r.info.rejected.map(String),
        bounced: hardBounces(r.info),
        message_id_header: message.message_id_header,
      },
    };
  }

  private takeIdle(): SMTPConnection | undefined {
    const idle = this.idle;
    this.idle = undefined;
    if (idle && Date.now() - idle.since < IDLE_REUSE_MS) return idle.conn;
    idle?.conn.quit();
    return undefined;
  }

  private async connect(): Promise<SMTPConnection> {
    const a = this.account;
    const Connection = await loadSmtpConnection();
    const conn = new Connection({
      host: a.host,
      port: a.port,
      secure: a.secure,
      requireTLS: a.requireStartTls,
      tls: { rejectUnauthorized: a.rejectUnauthorized, ...(a.ca ? { ca: a.ca } : {}) },
      connectionTimeout: this.opts.connectionTimeoutMs ?? 30_000,
      greetingTimeout: this.opts.connectionTimeoutMs ?? 30_000,
      socketTimeout: this.opts.socketTimeoutMs ?? 60_000,
      logger: false,
    });
    // SMTPConnection reports socket failures as 'error'/'end' events, not through the callbacks: keep one
    // handler for the connection's life and route its errors to whatever operation is pending.
    const pending: { fail?: ((err: unknown) => void) | undefined } = {};
    // Deferred a little, so the operation's own callback, which carries the server's reply (say a 421 before
    // it hangs up), wins over the bare close that follows it.
    const later = (err: unknown) => setTimeout(() => pending.fail?.(err), 25);
    conn.on('error', later);
    conn.on('end', () => later(Object.assign(new Error('connection closed by the server'), { code: 'ECONNECTION' })));
    this.pending.set(conn, pending);
    const auth = smtpAuth(a.auth);
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        pending.fail = undefined;
        conn.close();
        // The same one-line fix `mailgate doctor` gives, so a delivery's last_error says which setting to change.
        reject(classify(err, false, runtimeHint(err, 'smtp', a)));
      };
      pending.fail = fail;
      conn.connect((err) => {
        if (err) return fail(err);
        conn.login(auth, (loginErr) => {
          if (loginErr) return fail(loginErr);
          if (settled) return;
          settled = true;
          pending.fail = undefined;
          resolve(conn);
        });
      });
    });
  }

  private async attempt(conn: SMTPConnection, raw: Buffer, envelope: { from: string; to: string[] }, hooks: SendHooks): Promise<Attempt> {
    try {
      await hooks.beforeMailFrom?.();
    } catch (err) {
      conn.close();
      throw err;
    }
    let transmitted = false;
    let off = 0;
    let ending = false;
    const body = new Readable({
      highWaterMark: CHUNK,
      read() {
        if (off < raw.length) {
          const chunk = raw.subarray(off, off + CHUNK);
          off += chunk.length;
          this.push(chunk);
          return;
        }
        if (ending) return;
        ending = true;
        hooks.beforeFinalDot().then(
          () => {
            transmitted = true;
            this.push(null);
          },
          (err: unknown) => this.destroy(err as Error),
        );
      },
    });
    const pending = this.pending.get(conn)!;
    return new Promise((resolve) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        pending.fail = undefined;
        body.destroy();
        conn.close();
        resolve({ error: err, transmitted });
      };
      pending.fail = fail;
      conn.send(envelope, body, (err, info) => {
        if (err || !info) return fail(err ?? new Error('no reply from the server'));
        if (settled) return;
        settled = true;
        pending.fail = undefined;
        this.idle?.conn.quit();
        this.idle = { conn, since: Date.now() };
        resolve({
          info: {
            accepted: info.accepted ?? [],
            rejected: info.rejected ?? [],
            response: info.response ?? '',
            rejectedErrors: (info as { rejectedErrors?: unknown[] }).rejectedErrors ?? [],
          },
        });
      });
    });
  }
}

type Attempt = { info: { accepted: unknown[]; rejected: unknown[]; response: string; rejectedErrors: unknown[] } } | { error: unknown; transmitted: boolean };

function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ECONNECTION' || code === 'ESOCKET' || code === 'ETIMEDOUT' || code === 'EPROTOCOL';
}

/**
 * Classifies an SMTP failure (RFC 5321 §4.2.1: 4yz transient, 5yz permanent). A connection lost after the
 * final dot leaves the outcome unknown: the server may have accepted the message.
 */
export function classify(err: unknown, afterFinalDot: boolean, hint?: string): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  const reply = e.response ? `: ${e.response}` : '';
  // No token to log in with: the refresh was refused (a login is needed) or the token endpoint is down.
  const token = tokenFailureOf(err);
  if (token) return new DeliveryError(token.message, token.retryable ? 'transient' : 'config');
  // Wrong credentials or TLS settings fail every message the same way: a configuration problem, not the
  // message's (RFC 4954 §6: 530 authentication required, 534/538 mechanism, 535 credentials invalid).
  if (e.code === 'EAUTH' || [530, 534, 535, 538].includes(e.responseCode ?? 0)) {
    return new DeliveryError(
      `SMTP authentication failed${reply}; check the smtp user and password (smtp.password, password_env or password_file in the config)`,
      'config',
    );
  }
  const tlsCode = e.code === 'ETLS' ? e.code : [e.code, (err as { originalCode?: string }).originalCode].find((c) => c && TLS_FAILURE.test(c));
  if (tlsCode) {
    return new DeliveryError(
      `SMTP TLS failed (${tlsCode}: ${e.message ?? ''}); check smtp.host (it must match the server's ` +
        `certificate), smtp.port with secure/starttls (465 is TLS from the first byte, 587 STARTTLS) and tls.ca_file for a private CA${hint ? `; ${hint}` : ''}`,
      'config',
    );
  }
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return new DeliveryError(`SMTP ${e.responseCode}${reply}`, 'permanent', hardBounces(err as { rejectedErrors?: unknown[] }));
    if (e.responseCode >= 400) return new DeliveryError(`SMTP ${e.responseCode}${reply}`, 'transient');
  }
  // EENVELOPE with no server reply is nodemailer refusing the envelope itself (an address with <, > or a line
  // break, no recipients): the row is wrong and every retry would be refused the same way, or worse, sent.
  if (e.code === 'EENVELOPE')
    return new DeliveryError(`invalid envelope, not sent (${e.message ?? 'EENVELOPE'}); fix the recipients and send again`, 'permanent');
  const what = `${e.code ?? 'error'}: ${e.message ?? String(err)}`;
  const fix = hint ? `; ${hint}` : '';
  if (afterFinalDot) return new DeliveryError(`connection lost after the message was transmitted (${what}); it may have been delivered`, 'unknown_outcome');
  return new DeliveryError(`SMTP connection failed (${what})${fix}`, 'transient');
}

/** Node's and OpenSSL's codes for a certificate or protocol-version failure of the TLS handshake. */
const TLS_FAILURE =
  /^(ERR_SSL_|ERR_TLS_|CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)|HOSTNAME_MISMATCH$|EPROTO$)/;

/**
 * Recipients refused for good at RCPT TO: a 550/551/553 reply, or any 5xx with an enhanced status of 5.1.x
 * (bad mailbox or domain, RFC 3463). Policy refusals (5.7.x) and full mailboxes (552, 5.2.x) are not bounces
 * of the address, so they do not suppress it.
 */
export function hardBounces(source: { rejectedErrors?: unknown[] }): string[] {
  const out: string[] = [];
  for (const e of source.rejectedErrors ?? []) {
    const r = e as { recipient?: unknown; responseCode?: unknown; response?: unknown };
    if (typeof r.recipient !== 'string' || typeof r.responseCode !== 'number') continue;
    const enhanced = /\b5\.1\.\d{1,3}\b/.test(String(r.response ?? ''));
    if ([550, 551, 553].includes(r.responseCode) || (r.responseCode >= 500 && enhanced)) out.push(r.recipient.toLowerCase());
  }
  return out;
}

/** nodemailer's SMTP client loads with the first connection, not at start-up (a server may never send). */
let smtpModule: Promise<typeof SMTPConnection> | undefined;
export function loadSmtpConnection(): Promise<typeof SMTPConnection> {
  smtpModule ??= import('nodemailer/lib/smtp-connection').then((m) => m.default);
  return smtpModule;
}
