/**
 * `mailgate oauth login`: the provider's sign-in in the person's browser, ending in a refresh token saved to a
 * file (0600) or handed back to be shown once. The CLI reaches the OAuth2 adapter through here, as every
 * interface reaches src/mail through a service.
 */
import { invalid, MailgateError } from '../errors.js';
import { loopbackLogin } from '../mail/oauth2/login.js';
import { type OAuth2Provider, providerPreset } from '../mail/oauth2/providers.js';
import { endpointUrlProblem } from '../mail/oauth2/settings.js';
import { writeSecretFile } from '../mail/oauth2/token-source.js';

export { OAUTH2_PROVIDERS, type OAuth2Provider } from '../mail/oauth2/providers.js';

export interface OAuthLoginInput {
  provider: OAuth2Provider;
  clientId: string;
  clientSecret?: string | undefined;
  authUrl?: string | undefined;
  tokenUrl?: string | undefined;
  tenant?: string | undefined;
  scopes?: string[] | undefined;
  loginHint?: string | undefined;
  /** Where to save the refresh token; without it the caller shows it once. */
  out?: string | undefined;
  onAuthUrl: (url: string) => void;
  timeoutMs?: number;
}

export interface OAuthLoginResult {
  /** Set only when no `out` file was given. */
  refreshToken: string | undefined;
  out: string | undefined;
  tokenUrl: string;
  scopes: string[];
}

export async function oauthLogin(i: OAuthLoginInput): Promise<OAuthLoginResult> {
  const preset = providerPreset(i.provider, i.tenant);
  const authUrl = i.authUrl ?? preset?.authUrl;
  const tokenUrl = i.tokenUrl ?? preset?.tokenUrl;
  if (!authUrl || !tokenUrl) throw invalid('provider', 'a custom provider needs --auth-url and --token-url (its authorisation and token endpoints)');
  for (const [flag, url] of [
    ['auth-url', authUrl],
    ['token-url', tokenUrl],
  ] as const) {
    const problem = endpointUrlProblem(url);
    if (problem) throw invalid(flag, `${url} ${problem}`);
  }
  const scopes = i.scopes?.length ? i.scopes : preset?.scopes;
  if (!scopes?.length) throw invalid('scope', 'a custom provider needs --scope (repeat it, or give a space-separated list) for IMAP and SMTP access');
  const r = await loopbackLogin({
    authUrl,
    tokenUrl,
    clientId: i.clientId,
    clientSecret: i.clientSecret,
    scopes,
    authParams: preset?.authParams ?? {},
    loginHint: i.loginHint,
    onAuthUrl: i.onAuthUrl,
    ...(i.timeoutMs ? { timeoutMs: i.timeoutMs } : {}),
  });
  if (i.out) {
    try {
      writeSecretFile(i.out, r.refreshToken);
    } catch (err) {
      throw new MailgateError(
        'INVALID_INPUT',
        `signed in, but the refresh token could not be saved to ${i.out} (${(err as NodeJS.ErrnoException).code ?? 'error'}); ` +
          'run `mailgate oauth login` again with --out naming a writable file',
        { field: 'out' },
      );
    }
  }
  return { refreshToken: i.out ? undefined : r.refreshToken, out: i.out, tokenUrl, scopes };
}
