/**
 * The installed-app sign-in (RFC 8252): a listener on a free port of 127.0.0.1 receives the browser's
 * redirect (§7.3), the code is bound to this process by PKCE S256 (RFC 7636) and the redirect to this login
 * by a random `state` compared exactly (RFC 6749 §10.12), then the code is exchanged at the token endpoint
 * (§4.1.3). What comes back is a refresh token; the code, the verifier and the tokens are never printed.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MailgateError } from '../../errors.js';
import { requestToken, type TokenResponse } from './token-endpoint.js';

export interface LoginOptions {
  authUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes: string[];
  /** Provider-specific authorisation parameters (Google's access_type=offline). */
  authParams?: Record<string, string>;
  /** The address to sign in as, pre-filled on the provider's page (OpenID Connect `login_hint`). */
  loginHint?: string | undefined;
  /** Called once with the URL the person must open; the listener is already up. */
  onAuthUrl: (url: string) => void;
  /** How long to wait for the person; default 5 minutes. */
  timeoutMs?: number;
}

const base64url = (b: Buffer) => b.toString('base64url');

/** RFC 7636 §4.1-4.2: a 43-character verifier from 32 random bytes, and its S256 challenge. */
function pkcePair(): { verifier: string; challenge: string } {
  const verifier = base64url(randomBytes(32));
  return { verifier, challenge: base64url(createHash('sha256').update(verifier).digest()) };
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

const page = (res: ServerResponse, status: number, text: string) => {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  res.end(`mailgate: ${text}\n`);
};

/** Runs the sign-in and resolves with the token response, which always holds a refresh token. */
export async function loopbackLogin(o: LoginOptions): Promise<TokenResponse & { refreshToken: string }> {
  const { verifier, challenge } = pkcePair();
  const state = base64url(randomBytes(24));
  let settle!: { resolve: (r: TokenResponse & { refreshToken: string }) => void; reject: (e: Error) => void };
  const done = new Promise<TokenResponse & { refreshToken: string }>((resolve, reject) => {
    settle = { resolve, reject };
  });
  let redirectUri = '';
  let handled = false;

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const q = url.searchParams;
    // Browsers also ask for /favicon.ico; only the redirect carries a state.
    if (req.method !== 'GET' || url.pathname !== '/' || (!q.has('code') && !q.has('error'))) return page(res, 404, 'not found');
    if (handled) return page(res, 409, 'this sign-in is already finished; close this tab');
    handled = true;
    const got = q.get('state') ?? '';
    if (!sameString(got, state)) {
      page(res, 400, 'this answer does not belong to the sign-in that is waiting (state mismatch); nothing was saved');
      return settle.reject(
        new MailgateError(
          'INVALID_INPUT',
          'the redirect to the loopback listener carried a state that does not match this login (a stale tab, or a forged request); ' +
            'nothing was exchanged. Run `mailgate oauth login` again and use the URL it prints',
        ),
      );
    }
    const error = q.get('error');
    if (error) {
      const why = (q.get('error_description') ?? '').replace(/\s+/g, ' ').slice(0, 200);
      page(res, 400, `the provider refused the sign-in (${error}); see the terminal`);
      return settle.reject(
        new MailgateError('INVALID_INPUT', `the provider refused the sign-in (${error}${why ? `: ${why}` : ''}); run \`mailgate oauth login\` again`),
      );
    }
    try {
      const params = { grant_type: 'authorization_code', code: q.get('code') ?? '', redirect_uri: redirectUri, code_verifier: verifier };
      const r = await requestToken(o.tokenUrl, { clientId: o.clientId, clientSecret: o.clientSecret }, params);
      if (!r.refreshToken) {
        throw new MailgateError(
          'CONFIG_INVALID',
          'the provider issued an access token but no refresh token: Microsoft needs the offline_access scope, Google access_type=offline ' +
            'with prompt=consent (both are in the presets); for a custom provider, allow the refresh_token grant for this client',
        );
      }
      page(res, 200, 'signed in; you can close this tab and return to the terminal');
      settle.resolve({ ...r, refreshToken: r.refreshToken });
    } catch (err) {
      page(res, 502, 'the token exchange failed; see the terminal');
      settle.reject(err as Error);
    }
  };

  const server = createServer((req, res) => {
    onRequest(req, res).catch((err: unknown) => settle.reject(err as Error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // No path: what providers register for installed apps (the port of a loopback redirect is not compared, RFC 8252 §7.3).
  redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const timer = setTimeout(
    () => settle.reject(new MailgateError('UNAVAILABLE', 'no sign-in arrived in time; run `mailgate oauth login` again and finish it in the browser')),
    o.timeoutMs ?? 5 * 60_000,
  );
  try {
    const auth = new URL(o.authUrl);
    const params: Record<string, string> = {
      response_type: 'code',
      client_id: o.clientId,
      redirect_uri: redirectUri,
      scope: o.scopes.join(' '),
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      ...o.authParams,
    };
    if (o.loginHint) params.login_hint = o.loginHint;
    for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
    o.onAuthUrl(auth.href);
    return await done;
  } finally {
    clearTimeout(timer);
    // The last page may still be on its way out: stop listening, drop only idle sockets, and let the rest end.
    server.close();
    server.closeIdleConnections();
    server.unref();
  }
}
