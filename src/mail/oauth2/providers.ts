/**
 * OAuth2 presets for the providers mailgate knows: where a person signs in, where tokens are exchanged, and
 * the scopes that IMAP and SMTP need. Shared by the token source (src/mail/oauth2), `mailgate oauth login` and
 * `mailgate init` (whose src/config/presets.ts holds the servers). A `custom` provider names its own URLs.
 */

export const OAUTH2_PROVIDERS = ['google', 'microsoft', 'custom'] as const;
export type OAuth2Provider = (typeof OAUTH2_PROVIDERS)[number];

export interface OAuth2Preset {
  authUrl: string;
  tokenUrl: string;
  /** IMAP and SMTP access, plus whatever the provider needs to hand out a refresh token. */
  scopes: string[];
  /** Extra authorisation-request parameters. */
  authParams: Record<string, string>;
}

/** Microsoft's tenant for personal and work accounts alike; an organisation may pin its own (id or domain). */
export const DEFAULT_MICROSOFT_TENANT = 'common';

/**
 * The preset for a known provider, or undefined for `custom`. Google issues a refresh token only with
 * access_type=offline, and again for a returning user only with prompt=consent; Microsoft issues one for the
 * offline_access scope.
 */
export function providerPreset(provider: OAuth2Provider, tenant: string = DEFAULT_MICROSOFT_TENANT): OAuth2Preset | undefined {
  if (provider === 'google') {
    return {
      authUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      scopes: ['https://mail.google.com/'],
      authParams: { access_type: 'offline', prompt: 'consent' },
    };
  }
  if (provider === 'microsoft') {
    const base = `https://login.microsoftonline.com/${encodeURIComponent(tenant)}/oauth2/v2.0`;
    return {
      authUrl: `${base}/authorize`,
      tokenUrl: `${base}/token`,
      scopes: ['https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/SMTP.Send', 'offline_access'],
      authParams: {},
    };
  }
  return undefined;
}
