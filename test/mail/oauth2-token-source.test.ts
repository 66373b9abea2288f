/**
 * The OAuth2 token source against a real issuer (oauth2-mock-server on 127.0.0.1), without mail servers:
 * caching and refreshing ahead of expiry, one shared in-flight refresh, refresh-token rotation written back to
 * its file, and refusals turned into catalogued errors that say what to do and carry no secret.
 */
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailgateError } from '../../src/errors.js';
import { OAuth2TokenSource } from '../../src/mail/oauth2/token-source.js';
import { type OAuth2IssuerHandle, startOAuth2Issuer } from '../helpers/oauth2-server.js';

const SECRET = `token-source-secret-${process.pid}`;

describe('the OAuth2 token source', () => {
  let idp: OAuth2IssuerHandle;
  let dir: string;
  beforeAll(async () => {
    idp = await startOAuth2Issuer({ clientSecret: SECRET });
    dir = mkdtempSync('/tmp/mg-oauth2-ts-');
  });
  afterAll(async () => {
    await idp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const source = async (over: Partial<ConstructorParameters<typeof OAuth2TokenSource>[0]> = {}) =>
    new OAuth2TokenSource({
      tokenUrl: idp.tokenUrl,
      clientId: idp.clientId,
      clientSecret: SECRET,
      refreshToken: await idp.grant(`u${Math.random().toString(36).slice(2)}@mailgate.test`),
      label: 'test@mailgate.test',
      ...over,
    });
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => expect.fail('expected a rejection'),
      (e: unknown) => e as MailgateError,
    );
  const expectNoSecrets = (text: string) => {
    for (const t of [...idp.issued, SECRET]) expect(text).not.toContain(t);
  };

  it('caches the access token while more than five minutes are left, and refreshes once under that', async () => {
    let now = Date.now();
    const s = await source({ now: () => now });
    const base = idp.requests.refresh_token;
    const a = await s.accessToken();
    expect(await s.accessToken()).toBe(a);
    expect(idp.requests.refresh_token - base).toBe(1);
    now += 54 * 60_000; // 6 minutes left of the hour
    expect(await s.accessToken()).toBe(a);
    now += 2 * 60_000; // 4 minutes left
    const b = await s.accessToken();
    expect(b).not.toBe(a);
    expect(idp.requests.refresh_token - base).toBe(2);
  });

  it('treats a response without expires_in as an hour', async () => {
    let now = Date.now();
    const s = await source({ now: () => now });
    idp.setAccessTtl(null);
    try {
      const base = idp.requests.refresh_token;
      const a = await s.accessToken();
      now += 54 * 60_000;
      expect(await s.accessToken()).toBe(a);
      now += 2 * 60_000;
      expect(await s.accessToken()).not.toBe(a);
      expect(idp.requests.refresh_token - base).toBe(2);
    } finally {
      idp.setAccessTtl(3600);
    }
  });

  it('concurrent callers share one refresh, and renewing a refused token refreshes once for all of them', async () => {
    const s = await source();
    const base = idp.requests.refresh_token;
    const tokens = await Promise.all(Array.from({ length: 8 }, () => s.accessToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(idp.requests.refresh_token - base).toBe(1);
    const renewed = await Promise.all(Array.from({ length: 5 }, () => s.renew(tokens[0])));
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(tokens[0]);
    // A caller that still holds the first token learns of the replacement without another refresh.
    expect(await s.renew(tokens[0])).toBe(renewed[0]);
    expect(idp.requests.refresh_token - base).toBe(2);
  });

  it('writes a rotated refresh token back to its file (0600, no temporary file left) and spends the new one next', async () => {
    const first = await idp.grant('rotating@mailgate.test');
    const file = join(dir, 'rotating.token');
    writeFileSync(file, `${first}\n`, { mode: 0o644 });
    const s = new OAuth2TokenSource({
      tokenUrl: idp.tokenUrl,
      clientId: idp.clientId,
      clientSecret: SECRET,
      refreshToken: first,
      refreshTokenFile: file,
      label: 'r',
    });
    const a = await s.accessToken();
    const second = readFileSync(file, 'utf8').trim();
    expect(second).not.toBe(first);
    expect(idp.issued).toContain(second);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.startsWith('rotating'))).toEqual(['rotating.token']);
    // The issuer spent the first refresh token: only the rotated one, kept in memory, can work now.
    expect(await s.renew(a)).not.toBe(a);
    expect(readFileSync(file, 'utf8').trim()).not.toBe(second);
  });

  it('two processes on one refresh token file: the one whose token the other rotated away picks up the saved successor', async () => {
    const file = join(dir, 'shared.token');
    writeFileSync(file, `${await idp.grant('shared@mailgate.test')}\n`, { mode: 0o600 });
    const first = readFileSync(file, 'utf8').trim();
    const make = () =>
      new OAuth2TokenSource({ tokenUrl: idp.tokenUrl, clientId: idp.clientId, clientSecret: SECRET, refreshToken: first, refreshTokenFile: file, label: 's' });
    const [serve, cli] = [make(), make()];
    await cli.accessToken(); // spends `first`, saves its successor
    expect(await serve.accessToken()).toMatch(/^ey/); // `first` is refused; the file's successor works
    expect(readFileSync(file, 'utf8').trim()).not.toBe(first);
  });

  it('a refused refresh token is OAUTH_LOGIN_REQUIRED and tells the person to run `mailgate oauth login`', async () => {
    const s = await source();
    idp.revokeRefreshTokens();
    const e = await failure(s.accessToken());
    expect(e).toBeInstanceOf(MailgateError);
    expect(e.code).toBe('OAUTH_LOGIN_REQUIRED');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain('mailgate oauth login');
    expect(e.message).toContain('invalid_grant');
    expectNoSecrets(`${e.message} ${JSON.stringify(e.details)} ${e.stack}`);
    // A refused refresh token stays refused: later callers get the answer without asking the provider again.
    const asked = idp.requests.refresh_token;
    expect((await failure(s.renew(undefined))).code).toBe('OAUTH_LOGIN_REQUIRED');
    expect(idp.requests.refresh_token).toBe(asked);
  });

  it('a wrong client secret is CONFIG_INVALID naming the client settings; an unreachable endpoint is UNAVAILABLE', async () => {
    const wrong = await failure((await source({ clientSecret: 'not-the-secret' })).accessToken());
    expect(wrong.code).toBe('CONFIG_INVALID');
    expect(wrong.message).toMatch(/client_id, the client secret/);
    expect(wrong.message).not.toContain('not-the-secret');
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const down = await failure((await source({ tokenUrl: `http://127.0.0.1:${port}/token` })).accessToken());
    expect(down.code).toBe('UNAVAILABLE');
    expect(down.retryable).toBe(true);
    expect(down.message).toContain(`127.0.0.1:${port}`);
    expectNoSecrets(`${wrong.message} ${down.message}`);
  });
});
