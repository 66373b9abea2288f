/**
 * The `oauth2` block of a mailbox's imap/smtp settings (README "OAuth2"), and its resolution into a token
 * source at start: secrets read from the environment or files, the provider's token endpoint filled in.
 * Problems name the key and the fix, like the rest of the config's.
 */
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { DEFAULT_MICROSOFT_TENANT, OAUTH2_PROVIDERS, providerPreset } from './providers.js';
import { OAuth2TokenSource } from './token-source.js';

const envName = (key: string) =>
  z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: `${key} must be an environment variable name` })
    .optional();

/**
 * Plain http would send the client secret and the refresh token (or the code) in the clear; it is accepted
 * only for an endpoint on this machine (a local test issuer).
 */
export function endpointUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL; give the https:// address of the endpoint';
  }
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) return undefined;
  return 'must be https:// (plain http only to 127.0.0.1 or localhost)';
}

export const OAuth2Settings = z
  .object({
    provider: z.enum(OAUTH2_PROVIDERS, { error: "oauth2.provider must be 'google', 'microsoft' or 'custom'" }),
    client_id: z.string().trim().min(1, { error: 'oauth2.client_id is empty; copy it from the app registration at the provider' }),
    client_secret_env: envName('oauth2.client_secret_env'),
    client_secret_file: z.string().min(1).optional(),
    refresh_token_env: envName('oauth2.refresh_token_env'),
    refresh_token_file: z.string().min(1).optional(),
    token_url: z.string().min(1).optional().describe('preset for google and microsoft; required for custom'),
    tenant: z.string().trim().min(1).optional().describe(`microsoft only: the directory (tenant id or domain); default ${DEFAULT_MICROSOFT_TENANT}`),
    scopes: z.array(z.string().trim().min(1)).min(1).optional().describe('scopes asked for on refresh; default the provider’s IMAP and SMTP scopes'),
  })
  .strict()
  .superRefine((o, ctx) => {
    const add = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
    if ((o.refresh_token_env === undefined) === (o.refresh_token_file === undefined)) {
      add('refresh_token_file', 'give exactly one of refresh_token_env or refresh_token_file (`mailgate oauth login --out FILE` writes the file)');
    }
    if (o.client_secret_env !== undefined && o.client_secret_file !== undefined) {
      add('client_secret_file', 'give at most one of client_secret_env or client_secret_file (none for a public client)');
    }
    if (o.provider === 'custom' && o.token_url === undefined) add('token_url', "is required for provider 'custom'; give the provider's token endpoint URL");
    const problem = o.token_url === undefined ? undefined : endpointUrlProblem(o.token_url);
    if (problem) add('token_url', problem);
    if (o.tenant !== undefined && o.provider !== 'microsoft') add('tenant', "applies to provider 'microsoft' only; remove it");
  });
export type OAuth2Settings = z.infer<typeof OAuth2Settings>;

/**
 * Reads the secrets and builds the token source, or pushes each problem (naming `where`.oauth2.KEY and what
 * to do) and returns undefined.
 */
export function resolveOAuth2(s: OAuth2Settings, label: string, where: string, env: NodeJS.ProcessEnv, problems: string[]): OAuth2TokenSource | undefined {
  const at = `${where}.oauth2`;
  const before = problems.length;
  const fromEnv = (key: string, name: string, what: string): string | undefined => {
    const v = env[name]?.trim();
    if (!v) problems.push(`${at}.${key}: environment variable ${name} is not set; export the ${what} in it`);
    return v || undefined;
  };
  const fromFile = (key: string, file: string, what: string): string | undefined => {
    try {
      const v = readFileSync(file, 'utf8').trim();
      if (v) return v;
      problems.push(`${at}.${key}: ${file} is empty; put the ${what} in it`);
    } catch (err) {
      problems.push(`${at}.${key}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path and permissions`);
    }
    return undefined;
  };
  const login = 'run `mailgate oauth login` to get one';
  const refreshToken =
    s.refresh_token_env !== undefined
      ? fromEnv('refresh_token_env', s.refresh_token_env, `refresh token (${login})`)
      : fromFile('refresh_token_file', s.refresh_token_file ?? '', `refresh token (${login})`);
  let clientSecret: string | undefined;
  if (s.client_secret_env !== undefined) clientSecret = fromEnv('client_secret_env', s.client_secret_env, 'OAuth2 client secret');
  else if (s.client_secret_file !== undefined) clientSecret = fromFile('client_secret_file', s.client_secret_file, 'OAuth2 client secret');
  const preset = providerPreset(s.provider, s.tenant);
  const tokenUrl = s.token_url ?? preset?.tokenUrl;
  if (!tokenUrl) problems.push(`${at}.token_url: is required for provider 'custom'; give the provider's token endpoint URL`);
  if (problems.length > before || !refreshToken || !tokenUrl) return undefined;
  return new OAuth2TokenSource({
    tokenUrl,
    clientId: s.client_id,
    clientSecret,
    refreshToken,
    refreshTokenFile: s.refresh_token_file,
    // Microsoft's v2 endpoint wants the scopes on every refresh; elsewhere, none means "as granted" (RFC 6749 §6).
    scopes: s.scopes ?? (s.provider === 'microsoft' ? preset?.scopes : undefined),
    label,
  });
}
