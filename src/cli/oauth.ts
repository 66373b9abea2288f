/**
 * `mailgate oauth login`: signs a person in at Google, Microsoft or another OAuth2 provider through the
 * browser (loopback redirect, PKCE) and keeps the refresh token, so mailgate can renew access tokens itself.
 * The URL to open goes to stderr with the instructions; stdout gets the result: the config snippet, plus the
 * refresh token itself (once) only when no --out file was given.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { invalid } from '../errors.js';
import { OAUTH2_PROVIDERS, type OAuth2Provider, oauthLogin } from '../services/oauth-login.js';
import { printLine } from './output.js';

const USAGE =
  'mailgate oauth login --provider google|microsoft|custom --client-id ID [--client-secret-env VAR] ' +
  '[--auth-url URL --token-url URL] [--tenant T] [--scope S]... [--login-hint ADDRESS] [--out FILE] [--open]';

export async function oauthCommand(sub: string | undefined, args: string[], values: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<number> {
  if (sub !== 'login') throw invalid('oauth', `unknown subcommand '${sub ?? ''}'; use: ${USAGE}`);
  if (args.length) throw invalid('oauth', `'mailgate oauth login' takes no arguments besides its options (got '${args[0]}')`);
  // Kebab-case as typed, or camelCase as some parsers hand them over.
  const get = (name: string): unknown => values[name] ?? values[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
  const text = (name: string): string | undefined => {
    const v = get(name);
    if (v === undefined || v === false) return undefined;
    if (typeof v !== 'string' || !v.trim()) throw invalid(name, `--${name} needs a value; usage: ${USAGE}`);
    return v.trim();
  };
  const provider = text('provider');
  if (!provider || !(OAUTH2_PROVIDERS as readonly string[]).includes(provider)) {
    throw invalid('provider', `--provider must be one of ${OAUTH2_PROVIDERS.join(', ')}; usage: ${USAGE}`);
  }
  const clientId = text('client-id');
  if (!clientId) throw invalid('client-id', `--client-id is required: the client id of the app registered at the provider; usage: ${USAGE}`);
  const secretEnv = text('client-secret-env');
  const clientSecret = secretEnv === undefined ? undefined : env[secretEnv];
  if (secretEnv !== undefined && !clientSecret)
    throw invalid('client-secret-env', `environment variable ${secretEnv} is not set; export the client secret in it`);
  const rawScopes = get('scope');
  const scopes = (Array.isArray(rawScopes) ? rawScopes : rawScopes === undefined ? [] : [rawScopes]).flatMap((s) => String(s).split(/\s+/)).filter(Boolean);
  const outFlag = text('out');
  const out = outFlag === undefined ? undefined : resolve(outFlag);
  if (out) {
    try {
      accessSync(dirname(out), constants.W_OK); // fail before the sign-in, not after it, when the token has nowhere to go
    } catch {
      throw invalid('out', `cannot write in ${dirname(out)}; give --out a path in a directory that exists and is writable`);
    }
  }
  const tenant = text('tenant');
  if (tenant !== undefined && provider !== 'microsoft') throw invalid('tenant', '--tenant applies to --provider microsoft only');

  const result = await oauthLogin({
    provider: provider as OAuth2Provider,
    clientId,
    clientSecret,
    authUrl: text('auth-url'),
    tokenUrl: text('token-url'),
    tenant,
    scopes,
    loginHint: text('login-hint'),
    out,
    onAuthUrl: (url) => {
      process.stderr.write(
        `Open this address in a browser and sign in${text('login-hint') ? ` as ${text('login-hint')}` : ''}:\n\n  ${url}\n\nWaiting for the sign-in...\n`,
      );
      if (get('open') === true) openBrowser(url);
    },
  });

  const oauth2: Record<string, unknown> = { provider, client_id: clientId };
  if (secretEnv) oauth2.client_secret_env = secretEnv;
  if (out) oauth2.refresh_token_file = out;
  else oauth2.refresh_token_env = 'OAUTH_REFRESH_TOKEN';
  // A preset's endpoint goes without saying; an overridden one must reach the config, or refreshes go elsewhere.
  if (provider === 'custom' || text('token-url')) oauth2.token_url = result.tokenUrl;
  if (tenant) oauth2.tenant = tenant;
  if (scopes.length) oauth2.scopes = result.scopes;
  const snippet = JSON.stringify({ oauth2 }, null, 2);
  if (out) {
    printLine(`Signed in. The refresh token is saved in ${out} (mode 0600; mailgate rewrites it when the provider rotates it).`);
  } else {
    printLine('Signed in. The refresh token, shown this once (keep it like a password):');
    printLine('');
    printLine(`  ${result.refreshToken}`);
    printLine('');
    printLine('Put it in the environment variable OAUTH_REFRESH_TOKEN (or rerun with --out FILE to have it saved).');
  }
  printLine("Then, in the mailbox's imap and smtp settings, replace the password keys with:");
  printLine(snippet);
  return 0;
}

/** Only on request (--open): a test, or a machine without a desktop, must never start a browser. */
function openBrowser(url: string): void {
  // Not `cmd /c start`: cmd would split the URL at its '&'s.
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => process.stderr.write('Could not open a browser; open the address above yourself.\n'));
  child.unref();
}
