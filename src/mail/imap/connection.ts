/**
 * A managed IMAP connection for one account: connected lazily, replaced after any close or error, and
 * reconnected with capped exponential backoff so an unreachable server or a failing login is not hammered.
 * Every folder access goes through withFolder, which holds imapflow's mailbox lock in try/finally.
 */
import type { ImapFlow } from 'imapflow';
import type { ServerAccount } from '../../config/accounts.js';
import { MailgateError } from '../../errors.js';
import { log } from '../../log.js';
import { runtimeHint } from '../connection-hints.js';
import { type ImapAuth, imapAuth, imapAuthAfterRefusal } from '../oauth2/auth.js';
import { type CommandError, connectionError, folderOpenError, isMissingFolder, isServerAnswer, refusalError } from './errors.js';

export interface ConnectionOptions {
  /** Socket inactivity timeout; also bounds how long a silently dropped connection goes unnoticed. */
  socketTimeoutMs?: number;
  maxBackoffMs?: number;
  /** Auto-IDLE after this much inactivity (imapflow's default is 15 s). */
  autoIdleDelayMs?: number;
  /** Longest one folder operation (a first sync of a large folder included) may take before the connection is declared dead. */
  operationTimeoutMs?: number;
}

/** imapflow is slow to load (0.2-0.5 s measured here): the first connection loads it, not the server's start-up. */
let imapflow: Promise<typeof import('imapflow')> | undefined;

/** Connecting, logging in or opening a folder: a live server answers in far less; a dead link never does. */
const CONNECT_DEADLINE_MS = 8000;

class ImapUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImapUnavailable';
  }
}

export class ImapConnection {
  private client: ImapFlow | undefined;
  private connecting: Promise<ImapFlow> | undefined;
  private failures = 0;
  private retryAt = 0;
  private closed = false;
  /** The last error imapflow logged: it returns `false` for a failed command and logs why. */
  private lastError: unknown;

  constructor(
    readonly account: ServerAccount,
    readonly label: string,
    private readonly opts: ConnectionOptions = {},
  ) {}

  /** A connected client, reusing the current one while it is usable. */
  async get(): Promise<ImapFlow> {
    if (this.closed) throw new ImapUnavailable(`${this.label}: connection closed`);
    if (this.client?.usable) return this.client;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** The folder the live connection has selected, or null (not connected, or none selected). */
  get selected(): string | null {
    const box = this.client?.usable ? this.client.mailbox : false;
    return box ? box.path : null;
  }

  async withFolder<T>(folder: string, fn: (client: ImapFlow) => Promise<T>, opts: { readOnly?: boolean } = {}): Promise<T> {
    let client: ImapFlow;
    try {
      client = await withDeadline(this.get(), CONNECT_DEADLINE_MS, () => this.drop('connecting took too long'));
    } catch (err) {
      if (err instanceof MailgateError) throw err; // e.g. OAUTH_LOGIN_REQUIRED: retrying cannot help
      throw new MailgateError('UNAVAILABLE', (err as Error).message);
    }
    let lock: Awaited<ReturnType<typeof client.getMailboxLock>>;
    try {
      lock = await withDeadline(client.getMailboxLock(folder, { readOnly: opts.readOnly ?? false }), CONNECT_DEADLINE_MS, () =>
        this.drop('opening the folder took too long'),
      );
    } catch (err) {
      const folders = isMissingFolder(err) ? (await client.list().catch(() => [])).map((f) => f.path) : undefined;
      throw folderOpenError(this.label, folder, err, folders);
    }
    try {
      return await withDeadline(fn(client), this.opts.operationTimeoutMs ?? 120_000, () => this.drop('an operation got no answer in time'));
    } catch (err) {
      if (err instanceof MailgateError) throw err;
      // A NO or BAD is the server answering a healthy connection: keep it, and say whether retrying can help.
      if (isServerAnswer(err)) throw refusalError(this.label, 'the request', err);
      // Anything else from imapflow here is the connection failing under us (closed, reset, timed out).
      this.drop(`operation failed: ${(err as Error).message}`);
      throw connectionError(this.label, err);
    } finally {
      lock.release();
    }
  }

  /**
   * Runs one imapflow command that answers `false` when it fails, and returns the server's NO/BAD to it
   * (undefined when it succeeded). imapflow answers `false` just the same when the connection failed under
   * the command: that is no refusal, and is thrown, so withFolder drops the connection and reports UNAVAILABLE.
   */
  async refusalOf(command: () => Promise<unknown>): Promise<CommandError | undefined> {
    this.lastError = undefined;
    const ok = await command();
    const err = this.lastError;
    this.lastError = undefined;
    if (ok !== false) return undefined;
    if (isServerAnswer(err)) return err;
    throw err instanceof Error ? err : new Error('the IMAP command failed with no answer from the server');
  }

  /** Drops the current connection (after a liveness failure); the next get() reconnects. */
  drop(reason: string): void {
    const c = this.client;
    this.client = undefined;
    if (c) {
      log('warn', 'imap connection dropped', { mailbox: this.label, reason });
      c.close();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.client;
    this.client = undefined;
    if (c?.usable) await c.logout().catch(() => c.close());
    else c?.close();
  }

  private async open(): Promise<ImapFlow> {
    const wait = this.retryAt - Date.now();
    // Within the backoff window: a short wait is sat out (a network blip should not fail a read), a long one
    // is refused at once so a failing server or a bad password is not hammered.
    if (wait > 5000) throw new ImapUnavailable(`${this.label}: IMAP server unreachable; next attempt in ${Math.ceil(wait / 1000)} s`);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const a = this.account;
    // Before the backoff's try: a refused refresh token is no unreachable server, and the token source
    // answers it again without asking the provider.
    const auth = await imapAuth(a.auth);
    const { ImapFlow: Flow } = await (imapflow ??= import('imapflow'));
    let client: ImapFlow | undefined;
    try {
      client = this.build(Flow, auth);
      await client.connect().catch(async (err: unknown) => {
        // A refused OAuth2 token may have been revoked or cut short at the provider: refresh it, try once more.
        const renewed = await imapAuthAfterRefusal(a.auth, auth, err);
        if (!renewed) throw err;
        client?.close();
        client = this.build(Flow, renewed);
        await client.connect();
      });
    } catch (err) {
      this.failures++;
      // Capped backoff: 1 s, 2 s, 4 s ... up to 15 min, so a bad password does not lock the account.
      this.retryAt = Date.now() + Math.min(1000 * 2 ** (this.failures - 1), this.opts.maxBackoffMs ?? 15 * 60_000);
      client?.close();
      if (err instanceof MailgateError) throw err; // the token endpoint's answer, already saying what to do
      const e = err as { authenticationFailed?: boolean; message?: string };
      // The same one-line fix `mailgate doctor` gives, so a tool error says which setting to change.
      const fix = runtimeHint(err, 'imap', a);
      throw new ImapUnavailable(
        `${this.label}: ${e.authenticationFailed ? 'IMAP login failed; check the imap credentials' : `cannot connect to IMAP (${e.message ?? String(err)})${fix ? `; ${fix}` : ''}`}`,
      );
    }
    this.failures = 0;
    this.retryAt = 0;
    // close() ran while this connected (a background prefetch as the process stops): do not leave it open.
    if (this.closed) {
      void client.logout().catch(() => client?.close());
      throw new ImapUnavailable(`${this.label}: connection closed`);
    }
    this.client = client;
    return client;
  }

  private build(Flow: typeof ImapFlow, auth: ImapAuth): ImapFlow {
    const a = this.account;
    const client = new Flow({
      host: a.host,
      port: a.port,
      secure: a.secure,
      doSTARTTLS: a.requireStartTls ? true : undefined,
      auth,
      tls: { rejectUnauthorized: a.rejectUnauthorized, ...(a.ca ? { ca: a.ca } : {}) },
      // imapflow logs why a command failed and returns false; keep the error to report it (refusalOf).
      logger: {
        debug: () => undefined,
        info: () => undefined,
        error: () => undefined,
        warn: (entry: { err?: unknown }) => {
          if (entry?.err) this.lastError = entry.err;
        },
      },
      socketTimeout: this.opts.socketTimeoutMs ?? 5 * 60_000,
      connectionTimeout: CONNECT_DEADLINE_MS,
      greetingTimeout: CONNECT_DEADLINE_MS,
      autoIdleDelay: this.opts.autoIdleDelayMs ?? 15_000,
      maxIdleTime: 5 * 60_000,
      clientInfo: { name: 'mailgate' },
    });
    client.on('error', (err: Error) => log('warn', 'imap error', { mailbox: this.label, error: err.message }));
    client.on('close', () => {
      if (this.client === client) this.client = undefined;
    });
    return client;
  }
}

/** Rejects when p takes longer than ms (after calling onTimeout, which drops the dead connection). */
export function withDeadline<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      onTimeout();
      reject(new Error(`no answer from the IMAP server in ${Math.round(ms / 1000)} s`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e as Error);
      },
    );
  });
}
