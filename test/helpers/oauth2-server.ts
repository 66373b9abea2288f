/**
 * A real OAuth2 issuer on 127.0.0.1 for tests (oauth2-mock-server), made to keep account of what it issued so
 * that a mail server can verify tokens against it, and a test can expire or revoke them:
 *
 *   const idp = await startOAuth2Issuer({ clientId: 'mailgate-test' });
 *   const refresh = await idp.grant('alice@mailgate.test');    // as if alice had signed in once
 *   const mail = await startMailServers({ dovecotAuth: idp.dovecotAuth() });  // Dovecot checks tokens here
 *   idp.revokeAccessTokens();                                   // the next login with a cached token fails
 *   idp.revokeRefreshTokens();                                  // the next refresh gets invalid_grant
 *   await idp.stop();
 *
 * Dovecot's oauth2 passdb asks the issuer's introspection endpoint (RFC 7662) about every XOAUTH2/OAUTHBEARER
 * login. Introspection rather than local JWT validation, because only introspection can see a revoked token
 * (a JWT checked locally stays valid until its exp), and revocation is how a test makes a server refuse a token
 * the client still believes in. The mock's /introspect parses only JSON bodies while Dovecot posts a form
 * (RFC 7662 §2.1), so the listener below decodes the form and hands the request to the mock's own handler;
 * its beforeIntrospect and beforeResponse hooks then answer from the ledger kept here.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server';

export interface OAuth2IssuerHandle {
  url: string;
  authUrl: string;
  tokenUrl: string;
  introspectionUrl: string;
  clientId: string;
  clientSecret: string | undefined;
  /** A refresh token for `user`, as a completed sign-in would leave. */
  grant(user: string): Promise<string>;
  /** Who the next authorisation-code sign-in is (the mock's /authorize asks no one). */
  signInAs(user: string): void;
  /** Lifetime of the access tokens issued from now on (default 3600 s); null: an hour, but expires_in left out. */
  setAccessTtl(seconds: number | null): void;
  /** How many of `user`'s access tokens the introspection endpoint would call active now. */
  activeAccessTokens(user: string): number;
  /** Every access token issued so far stops being active. */
  revokeAccessTokens(): void;
  /** Every refresh token issued so far is refused (invalid_grant). */
  revokeRefreshTokens(): void;
  /** Token requests by grant type, and every token string issued (for leak checks). */
  readonly requests: { refresh_token: number; authorization_code: number; introspect: number };
  readonly issued: string[];
  /** For startMailServers: the mechanisms and the passdb block that make Dovecot verify tokens here. */
  dovecotAuth(): { mechanisms: string[]; passdb: string };
  stop(): Promise<void>;
}

interface Ledger {
  user: string;
  expiresAt: number;
  revoked: boolean;
}

export async function startOAuth2Issuer(opts: { clientId?: string; clientSecret?: string } = {}): Promise<OAuth2IssuerHandle> {
  const clientId = opts.clientId ?? 'mailgate-test-client';
  const clientSecret = opts.clientSecret;
  const issuer = new OAuth2Issuer();
  await issuer.keys.generate('RS256');
  const service = new OAuth2Service(issuer);
  const access = new Map<string, Ledger>();
  const refresh = new Map<string, Ledger>();
  const issued: string[] = [];
  const requests = { refresh_token: 0, authorization_code: 0, introspect: 0 };
  let ttl: number | null = 3600;
  let signIn = 'nobody@mailgate.test';

  // A unique id in every token: the mock's JWTs are otherwise identical within one second, and real ones never are.
  service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
    token.payload.jti = randomUUID();
  });
  service.on('beforeResponse', (res: { body: Record<string, unknown>; statusCode: number }, req: IncomingMessage & { body: Record<string, string> }) => {
    const body = req.body;
    const grant = body.grant_type;
    const refuse = (error: string, description: string, status = 400) => {
      res.statusCode = status;
      res.body = { error, error_description: description };
    };
    if (grant !== 'refresh_token' && grant !== 'authorization_code') return refuse('unsupported_grant_type', 'only code and refresh');
    requests[grant]++;
    if (body.client_id !== clientId || (clientSecret !== undefined && body.client_secret !== clientSecret)) {
      return refuse('invalid_client', 'unknown client or wrong secret', 401);
    }
    let user = signIn;
    if (grant === 'refresh_token') {
      const known = refresh.get(body.refresh_token ?? '');
      if (!known || known.revoked) return refuse('invalid_grant', 'Token has been expired or revoked.');
      // Rotation, as Microsoft and many others do: the refresh token just spent is spent for good.
      known.revoked = true;
      user = known.user;
    }
    const accessToken = String(res.body.access_token);
    const refreshToken = String(res.body.refresh_token);
    access.set(accessToken, { user, expiresAt: Date.now() + (ttl ?? 3600) * 1000, revoked: false });
    refresh.set(refreshToken, { user, expiresAt: Number.POSITIVE_INFINITY, revoked: false });
    issued.push(accessToken, refreshToken);
    if (ttl === null) delete res.body.expires_in;
    else res.body.expires_in = ttl;
  });
  service.on('beforeIntrospect', (res: { body: Record<string, unknown>; statusCode: number }, req: IncomingMessage & { body?: Record<string, string> }) => {
    requests.introspect++;
    const t = access.get(req.body?.token ?? '');
    res.body = t && !t.revoked && t.expiresAt > Date.now() ? { active: true, username: t.user, client_id: clientId } : { active: false };
  });

  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST' || !req.url?.startsWith('/introspect') || !/urlencoded/.test(req.headers['content-type'] ?? '')) {
      service.requestHandler(req, res);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // body-parser leaves a request alone once `_body` is set.
      Object.assign(req, { body: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString())), _body: true });
      service.requestHandler(req, res);
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer.url = url;
  const dir = mkdtempSync('/tmp/mg-oauth2-');
  chmodSync(dir, 0o755); // Dovecot's auth process reads the passdb args as its own user

  const handle: OAuth2IssuerHandle = {
    url,
    authUrl: `${url}/authorize`,
    tokenUrl: `${url}/token`,
    introspectionUrl: `${url}/introspect`,
    clientId,
    clientSecret,
    async grant(user) {
      // A real sign-in through the mock's /authorize and /token, without a browser.
      const redirect = 'http://127.0.0.1:9/callback';
      const at = await fetch(`${url}/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: redirect, state: 's' })}`, {
        redirect: 'manual',
      });
      const code = new URL(at.headers.get('location') ?? '').searchParams.get('code') ?? '';
      const before = signIn;
      signIn = user;
      try {
        const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: clientId });
        if (clientSecret) body.set('client_secret', clientSecret);
        const r = (await (await fetch(`${url}/token`, { method: 'POST', body })).json()) as { refresh_token: string };
        return r.refresh_token;
      } finally {
        signIn = before;
      }
    },
    signInAs: (user) => {
      signIn = user;
    },
    setAccessTtl: (seconds) => {
      ttl = seconds;
    },
    activeAccessTokens: (user) => [...access.values()].filter((t) => t.user === user && !t.revoked && t.expiresAt > Date.now()).length,
    revokeAccessTokens: () => {
      for (const t of access.values()) t.revoked = true;
    },
    revokeRefreshTokens: () => {
      for (const t of refresh.values()) t.revoked = true;
    },
    requests,
    issued,
    dovecotAuth() {
      const args = join(dir, 'dovecot-oauth2.conf.ext');
      // tokeninfo_url empty: Dovecot 2.3 then validates by introspection alone.
      writeFileSync(
        args,
        [
          `introspection_url = ${url}/introspect`,
          'introspection_mode = post',
          'username_attribute = username',
          'active_attribute = active',
          'active_value = true',
          '',
        ].join('\n'),
        { mode: 0o644 },
      );
      return { mechanisms: ['xoauth2', 'oauthbearer'], passdb: `passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = ${args}\n}\n` };
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
