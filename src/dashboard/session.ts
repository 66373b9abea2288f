/**
 * Dashboard sessions: a person signs in with a reviewer or operator token and gets a random session id in
 * an HttpOnly, SameSite=Strict cookie. Sessions live in this process's memory (a restart signs everyone
 * out), are bound to the token's principal, and end when the token is revoked.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hashSecret } from '../auth/secrets.js';
import { MailgateError } from '../errors.js';
import type { AppContext, Principal } from '../services/context.js';
import { assertTokenLive, resolveToken } from '../services/tokens.js';
import { isHttps, parseCookies } from './http.js';

const COOKIE = 'mailgate_session';

export interface DashSession {
  /** sha256 of the cookie's value: the map key, so a heap dump holds no usable session id. */
  key: string;
  csrf: string;
  principal: Principal;
  tokenId: string;
  tokenName: string;
  expiresAt: number;
}

export class Sessions {
  private readonly byKey = new Map<string, DashSession>();

  constructor(
    private readonly ctx: AppContext,
    private readonly ttlMs: number,
  ) {}

  /**
   * Signs in with a token. Agent-only tokens are refused: the dashboard decides mail, and an agent cannot.
   * Returns the cookie value to set (shown to no one else).
   */
  async signIn(token: string): Promise<{ sid: string; session: DashSession }> {
    let t: Awaited<ReturnType<typeof resolveToken>>;
    try {
      t = await resolveToken(this.ctx, token, 'the token entered');
    } catch (err) {
      if (err instanceof MailgateError && err.code === 'UNAUTHENTICATED') {
        throw new MailgateError(
          'UNAUTHENTICATED',
          "that token is not valid here (unknown, mistyped or revoked); a person can create one with 'mailgate token create --role reviewer --name NAME'",
        );
      }
      throw err;
    }
    if (!t.roles.includes('reviewer') && !t.roles.includes('operator')) {
      throw new MailgateError('FORBIDDEN', `the token '${t.name}' has only the ${t.roles.join(', ')} role; the dashboard needs a reviewer or operator token`);
    }
    this.prune();
    const sid = randomBytes(32).toString('base64url');
    const session: DashSession = {
      key: hashSecret(sid),
      csrf: randomBytes(32).toString('base64url'),
      principal: { id: `token:${t.name}`, roles: t.roles, mailboxes: t.mailboxes },
      tokenId: t.token_id,
      tokenName: t.name,
      expiresAt: this.ctx.clock() + this.ttlMs,
    };
    this.byKey.set(session.key, session);
    return { sid, session };
  }

  /** The request's live session, or undefined (no cookie, unknown, expired, or its token revoked). */
  async fromRequest(req: IncomingMessage): Promise<DashSession | undefined> {
    const sid = parseCookies(req.headers.cookie).get(COOKIE);
    if (!sid) return undefined;
    const key = hashSecret(sid);
    const s = this.byKey.get(key);
    if (!s) return undefined;
    if (s.expiresAt <= this.ctx.clock()) return (void this.byKey.delete(key), undefined);
    try {
      await assertTokenLive(this.ctx, s.tokenId);
    } catch {
      this.byKey.delete(key);
      return undefined;
    }
    return s;
  }

  /** Drops expired sessions, so sign-ins that were never signed out do not pile up. */
  private prune(): void {
    const now = this.ctx.clock();
    for (const [key, s] of this.byKey) if (s.expiresAt <= now) this.byKey.delete(key);
  }

  end(s: DashSession): void {
    this.byKey.delete(s.key);
  }

  clear(): void {
    this.byKey.clear();
  }

  cookie(req: IncomingMessage, sid: string): string {
    return `${COOKIE}=${sid}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(this.ttlMs / 1000)}${isHttps(req) ? '; Secure' : ''}`;
  }

  static clearCookie(req: IncomingMessage): string {
    return `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${isHttps(req) ? '; Secure' : ''}`;
  }
}

/** The form's CSRF token against the session's, in constant time. */
export function csrfMatches(s: DashSession, given: string | null): boolean {
  if (!given) return false;
  const a = Buffer.from(hashSecret(s.csrf), 'utf8');
  const b = Buffer.from(hashSecret(given), 'utf8');
  return timingSafeEqual(a, b);
}
