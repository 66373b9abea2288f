/**
 * Access tokens for one OAuth2 account, from its refresh token (RFC 6749 §6). The access token is cached in
 * memory and refreshed before it runs out, and once more when a server refuses it. Concurrent callers (the
 * IMAP connection, the SMTP sender, a doctor probe) share one in-flight refresh, so a provider that rotates
 * refresh tokens never sees the same one spent twice. A rotated refresh token replaces the old one in memory
 * and, when it was read from a file, in that file (0600, written atomically), so a restart keeps working.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { MailgateError } from '../../errors.js';
import { log } from '../../log.js';
import { requestToken } from './token-endpoint.js';

export interface TokenSourceOptions {
  tokenUrl: string;
  clientId: string;
  clientSecret?: string | undefined;
  refreshToken: string;
  /** Where the refresh token was read from; a rotated one is written back here. */
  refreshTokenFile?: string | undefined;
  scopes?: string[] | undefined;
  /** Names the account in logs (an address, never a secret). */
  label: string;
  now?: () => number;
}

/** Refresh when less than this is left, so a token never expires between handing it out and the server checking it. */
const MARGIN_MS = 5 * 60_000;
/** RFC 6749 §5.1 makes expires_in optional: assume the common hour rather than "forever". */
const DEFAULT_LIFETIME_S = 3600;

export class OAuth2TokenSource {
  private refreshToken: string;
  private cached: { token: string; expiresAt: number } | undefined;
  private inflight: Promise<string> | undefined;
  /** The provider's refusal of the current refresh token: final for that token (RFC 6749 §5.2), so not asked again. */
  private refused: MailgateError | undefined;
  private readonly now: () => number;
  /**
   * A digest of the settings this source was configured with (endpoint, client, the refresh token as read),
   * so a mailbox paused for its credentials resumes when they change. A rotation does not change it.
   */
  readonly fingerprint: string;

  constructor(private readonly opts: TokenSourceOptions) {
    this.refreshToken = opts.refreshToken;
    this.now = opts.now ?? Date.now;
    this.fingerprint = createHash('sha256')
      .update(JSON.stringify([opts.tokenUrl, opts.clientId, opts.clientSecret ?? null, opts.refreshToken, opts.scopes ?? null]))
      .digest('hex');
  }

  /** A token with at least five minutes left, refreshing first when needed. */
  accessToken(): Promise<string> {
    const c = this.cached;
    if (c && c.expiresAt - this.now() > MARGIN_MS) return Promise.resolve(c.token);
    return this.refresh();
  }

  /**
   * After a server refused `rejected`: a fresh token. When another caller has already replaced that token,
   * the replacement is returned without a second refresh.
   */
  renew(rejected: string | undefined): Promise<string> {
    if (this.inflight) return this.inflight;
    if (this.cached && rejected !== undefined && this.cached.token !== rejected) return this.accessToken();
    this.cached = undefined;
    return this.refresh();
  }

  private refresh(): Promise<string> {
    if (this.refused) return Promise.reject(this.refused);
    this.inflight ??= this.exchange().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async exchange(retried = false): Promise<string> {
    const o = this.opts;
    const used = this.refreshToken;
    const params: Record<string, string> = { grant_type: 'refresh_token', refresh_token: used };
    if (o.scopes?.length) params.scope = o.scopes.join(' ');
    const started = this.now();
    let r: Awaited<ReturnType<typeof requestToken>>;
    try {
      r = await requestToken(o.tokenUrl, { clientId: o.clientId, clientSecret: o.clientSecret }, params);
    } catch (err) {
      if (!(err instanceof MailgateError) || err.code !== 'OAUTH_LOGIN_REQUIRED') throw err;
      // Every mailgate process (serve, each CLI command) reads the same file: another one may have spent this
      // token and saved its successor there. Then the successor is the one to use.
      const onDisk = retried ? undefined : this.readFile();
      if (onDisk && onDisk !== used) {
        this.refreshToken = onDisk;
        return this.exchange(true);
      }
      this.refused = err;
      throw err;
    }
    // Counted from before the request, so a slow answer cannot make the token look younger than it is.
    this.cached = { token: r.accessToken, expiresAt: started + (r.expiresIn ?? DEFAULT_LIFETIME_S) * 1000 };
    if (r.refreshToken && r.refreshToken !== this.refreshToken) {
      this.refreshToken = r.refreshToken;
      if (o.refreshTokenFile) this.persist(o.refreshTokenFile, r.refreshToken);
    }
    log('debug', 'oauth2 access token refreshed', { mailbox: o.label, expires_in_s: r.expiresIn ?? null });
    return r.accessToken;
  }

  private readFile(): string | undefined {
    if (!this.opts.refreshTokenFile) return undefined;
    try {
      return readFileSync(this.opts.refreshTokenFile, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /** If the write fails the token still works in memory; the log says the file is stale (the next start would need a login). */
  private persist(file: string, token: string): void {
    try {
      writeSecretFile(file, token);
    } catch (err) {
      log('error', 'oauth2: the provider rotated the refresh token but it could not be saved; the file keeps the old one', {
        mailbox: this.opts.label,
        file,
        error: (err as NodeJS.ErrnoException).code ?? 'error',
      });
    }
  }
}

/**
 * Writes a secret to `file` as one line: a temporary file created 0600 beside it, then renamed over it, so a
 * crash leaves the old content or the new, never half of one, and the secret is never readable by others.
 */
export function writeSecretFile(file: string, secret: string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
