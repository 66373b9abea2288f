/**
 * `mailgate oauth login` in a process of its own against a real OAuth2 issuer on 127.0.0.1. The test plays the
 * browser: it reads the printed URL, follows the issuer's redirect to the loopback listener, and checks what
 * the command keeps (the refresh token, 0600) and what it never shows (tokens on stderr, or on stdout with --out).
 * Until the lead wires the command into main.ts, the child runs the exported oauthCommand from dist/ the way
 * main.js runs every command (errors as "mailgate: CODE: message", exit 2 for a usage error).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuth2TokenSource } from '../../src/mail/oauth2/token-source.js';
import { type OAuth2IssuerHandle, startOAuth2Issuer } from '../helpers/oauth2-server.js';
import { ROOT, assertBuilt, childEnv, waitFor } from './harness.js';

const SECRET = `login-secret-${process.pid}`;
const RUNNER = `
const { oauthCommand } = await import(${JSON.stringify(join(ROOT, 'dist/src/cli/oauth.js'))});
try {
  process.exitCode = await oauthCommand('login', [], JSON.parse(process.argv[1]), process.env);
} catch (e) {
  process.stderr.write('mailgate: ' + e.code + ': ' + e.message + '\\n');
  process.exitCode = e.code === 'INVALID_INPUT' || e.code === 'CONFIG_INVALID' ? 2 : 1;
}`;

interface Login {
  url: Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startLogin(values: Record<string, unknown>, home: string): Login {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RUNNER, JSON.stringify(values)], {
    cwd: ROOT,
    env: childEnv(home, { MG_CLIENT_SECRET: SECRET }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  const url = (async () => {
    let found: string | undefined;
    await waitFor(() => (found = /^ {2}(http\S+)$/m.exec(stderr)?.[1]) !== undefined || child.exitCode !== null, 15_000, 'the login URL on stderr');
    if (!found) throw new Error(`no login URL; stderr:\n${stderr}`);
    return found;
  })();
  url.catch(() => undefined); // a run that fails before printing one never asks for it
  return { url, done };
}

/** What a browser does: open the provider's page (the mock signs in at once) and follow its redirect. */
async function browse(authUrl: string, tamper?: (u: URL) => void): Promise<{ status: number; text: string; redirect: URL }> {
  const res = await fetch(authUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  const redirect = new URL(res.headers.get('location') ?? '');
  tamper?.(redirect);
  const back = await fetch(redirect);
  return { status: back.status, text: await back.text(), redirect };
}

describe('mailgate oauth login', () => {
  let idp: OAuth2IssuerHandle;
  let home: string;
  beforeAll(async () => {
    assertBuilt();
    idp = await startOAuth2Issuer({ clientSecret: SECRET });
    home = mkdtempSync('/tmp/mg-oauth-login-');
  });
  afterAll(async () => {
    await idp?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const flags = (extra: Record<string, unknown> = {}) => ({
    provider: 'custom',
    'client-id': idp.clientId,
    'client-secret-env': 'MG_CLIENT_SECRET',
    'auth-url': idp.authUrl,
    'token-url': idp.tokenUrl,
    scope: ['https://mail.example/imap', 'offline_access'],
    'login-hint': 'carol@mailgate.test',
    ...extra,
  });

  it('completes the loopback flow with PKCE and a state, and writes the refresh token 0600 to --out', async () => {
    const out = join(home, 'carol.token');
    idp.signInAs('carol@mailgate.test');
    const login = startLogin(flags({ out }), home);
    const url = new URL(await login.url);
    expect(url.origin + url.pathname).toBe(idp.authUrl);
    const q = url.searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('state')?.length).toBeGreaterThanOrEqual(22);
    expect(q.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(q.get('scope')).toBe('https://mail.example/imap offline_access');
    expect(q.get('login_hint')).toBe('carol@mailgate.test');
    const page = await browse(url.href);
    expect(page.status).toBe(200);
    expect(page.text).toContain('signed in');
    const r = await login.done;
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const saved = readFileSync(out, 'utf8').trim();
    expect(idp.issued).toContain(saved);
    // The saved token is a live one: it gets an access token for carol.
    const tokens = new OAuth2TokenSource({ tokenUrl: idp.tokenUrl, clientId: idp.clientId, clientSecret: SECRET, refreshToken: saved, label: 'carol' });
    expect(await tokens.accessToken()).toMatch(/^ey/);
    expect(JSON.parse(r.stdout.slice(r.stdout.indexOf('{')))).toEqual({
      oauth2: {
        provider: 'custom',
        client_id: idp.clientId,
        client_secret_env: 'MG_CLIENT_SECRET',
        refresh_token_file: out,
        token_url: idp.tokenUrl,
        scopes: ['https://mail.example/imap', 'offline_access'],
      },
    });
    // With --out, no token and no secret on either stream; the code never either.
    for (const t of [...idp.issued, SECRET, page.redirect.searchParams.get('code') ?? '-']) {
      expect(r.stdout).not.toContain(t);
      expect(r.stderr).not.toContain(t);
    }
  });

  it('refuses a redirect whose state does not match: nothing is exchanged or written', async () => {
    const out = join(home, 'forged.token');
    const codes = idp.requests.authorization_code;
    const login = startLogin(flags({ out }), home);
    const page = await browse(await login.url, (u) => u.searchParams.set('state', `${u.searchParams.get('state')}x`));
    expect(page.status).toBe(400);
    expect(page.text).toContain('state mismatch');
    const r = await login.done;
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/mailgate: INVALID_INPUT: .*state that does not match.*Run `mailgate oauth login` again/);
    expect(existsSync(out)).toBe(false);
    expect(idp.requests.authorization_code).toBe(codes);
  });

  it('without --out prints the refresh token once, on stdout only', async () => {
    const login = startLogin(flags(), home);
    const page = await browse(await login.url);
    expect(page.status).toBe(200);
    const r = await login.done;
    expect(r.code, r.stderr).toBe(0);
    const token = idp.issued.filter((t) => r.stdout.includes(t));
    expect(token).toHaveLength(1);
    expect(r.stdout.split(token[0]!).length - 1).toBe(1);
    expect(r.stdout).toContain('"refresh_token_env": "OAUTH_REFRESH_TOKEN"');
    for (const t of [...idp.issued, SECRET]) expect(r.stderr).not.toContain(t);
  });

  it("a preset provider's URL carries its own parameters and scopes (endpoints pointed at the test issuer)", async () => {
    const login = startLogin(flags({ provider: 'google', scope: undefined }), home);
    const q = new URL(await login.url).searchParams;
    expect(q.get('scope')).toBe('https://mail.google.com/');
    expect(q.get('access_type')).toBe('offline');
    expect(q.get('prompt')).toBe('consent');
    expect((await browse(await login.url)).status).toBe(200);
    const r = await login.done;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('"provider": "google"');
    // The overridden endpoint reaches the snippet, or the refreshes would go to Google's.
    expect(r.stdout).toContain(`"token_url": "${idp.tokenUrl}"`);
  });

  it('explains a usage mistake before listening', async () => {
    const login = startLogin({ provider: 'custom', 'client-id': 'x' }, home);
    const r = await login.done;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('a custom provider needs --auth-url and --token-url');
  });
});
