/**
 * One request to an OAuth2 token endpoint (RFC 6749 §3.2): a form POST answered with JSON. Used for the
 * refresh grant (§6) and the authorisation-code grant (§4.1.3). Errors name the endpoint and what to do, and
 * never carry a token, a code or a secret: the request body is never echoed.
 */
import { MailgateError } from '../../errors.js';

export interface TokenResponse {
  accessToken: string;
  /** Seconds, when the provider said (RFC 6749 §5.1 makes it optional). */
  expiresIn: number | undefined;
  /** Present when the provider issued a new one (on the first exchange, or on rotation). */
  refreshToken: string | undefined;
}

const TIMEOUT_MS = 30_000;

/**
 * POSTs `params` (plus the client credentials) to `tokenUrl`. The client secret goes in the body
 * (client_secret_post, RFC 6749 §2.3.1), which Google, Microsoft and most servers accept; a public client
 * (installed app with PKCE) sends none.
 */
export async function requestToken(
  tokenUrl: string,
  client: { clientId: string; clientSecret?: string | undefined },
  params: Record<string, string>,
): Promise<TokenResponse> {
  const body = new URLSearchParams({ ...params, client_id: client.clientId });
  if (client.clientSecret) body.set('client_secret', client.clientSecret);
  let res: Response;
  try {
    res = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    throw new MailgateError('UNAVAILABLE', `the OAuth2 token endpoint ${tokenUrl} cannot be reached (${cause}); retry shortly, or check token_url`);
  }
  const json = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  if (!res.ok || !json || typeof json.access_token !== 'string') throw endpointError(tokenUrl, params.grant_type ?? '', res.status, json);
  const expires = Number(json.expires_in);
  return {
    accessToken: json.access_token,
    expiresIn: Number.isFinite(expires) && expires > 0 ? expires : undefined,
    refreshToken: typeof json.refresh_token === 'string' && json.refresh_token ? json.refresh_token : undefined,
  };
}

/** The provider's own words, cut short: they explain a refusal, and are shown to people (never tokens). */
function describe(json: Record<string, unknown> | undefined): string {
  const code = typeof json?.error === 'string' ? json.error : 'no error code';
  const text = typeof json?.error_description === 'string' ? `: ${json.error_description.replace(/\s+/g, ' ').slice(0, 200)}` : '';
  return `${code}${text}`;
}

function endpointError(tokenUrl: string, grant: string, status: number, json: Record<string, unknown> | undefined): MailgateError {
  const error = typeof json?.error === 'string' ? json.error : undefined;
  const details = { token_url: tokenUrl, status, error: error ?? null };
  // RFC 6749 §5.2: invalid_grant is a refresh token (or code) that is expired, revoked or another client's.
  if (error === 'invalid_grant') {
    const what = grant === 'refresh_token' ? 'refresh token' : 'authorisation code';
    return new MailgateError(
      'OAUTH_LOGIN_REQUIRED',
      `the OAuth2 provider refused the ${what} (${describe(json)}); it was revoked, expired or issued to another client. ` +
        'Run `mailgate oauth login` again and put the new refresh token where the config reads it (refresh_token_file or refresh_token_env)',
      { details },
    );
  }
  if (error !== undefined && status >= 400 && status < 500) {
    return new MailgateError(
      'CONFIG_INVALID',
      `the OAuth2 token endpoint ${tokenUrl} refused the request (${describe(json)}); check client_id, the client secret, token_url and scopes`,
      { details },
    );
  }
  return new MailgateError('UNAVAILABLE', `the OAuth2 token endpoint ${tokenUrl} answered HTTP ${status} without a token; retry shortly`, { details });
}
