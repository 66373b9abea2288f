/**
 * Provider presets for `mailgate init`: the IMAP and SMTP servers of the common providers, so a person types
 * an address and a password source instead of host names, ports and TLS modes. Values are each provider's
 * published client settings; `generic` has no servers and asks for them.
 */

/** How the connection is secured: `secure` is TLS from the first byte (993, 465), `starttls` upgrades a plain port. */
export type TlsMode = 'secure' | 'starttls' | 'none';

export interface ServerPreset {
  host: string;
  port: number;
  tls: TlsMode;
}

export const PROVIDER_IDS = ['gmail', 'outlook', 'fastmail', 'icloud', 'yahoo', 'generic'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export interface ProviderPreset {
  id: ProviderId;
  label: string;
  /** Address domains that pick this preset. Outlook also serves Microsoft 365 on a company's own domain. */
  domains: readonly string[];
  /** Undefined for `generic`: the person gives the servers. */
  imap: ServerPreset | undefined;
  smtp: ServerPreset | undefined;
  /** Every preset logs in with the full address (Apple accepts it too, besides the bare name). */
  login: 'address';
  /**
   * `app_password`: the account password is refused for IMAP/SMTP; a separate app password is needed.
   * `oauth2`: the provider turned passwords off for IMAP/SMTP; an OAuth2 token (`access_token_env`) is needed,
   * unless an administrator still allows them. `password`: the account password works.
   */
  auth: 'password' | 'app_password' | 'oauth2';
  /** The setting the person must change at the provider before a login works, or null. */
  secretAdvice: string | null;
  /** The OAuth2 provider name of the schema's `oauth2.provider`, for the providers that offer OAuth2. */
  oauth2: 'google' | 'microsoft' | undefined;
}

export const PRESETS: Readonly<Record<ProviderId, ProviderPreset>> = {
  gmail: {
    id: 'gmail',
    label: 'Gmail / Google Workspace',
    domains: ['gmail.com', 'googlemail.com'],
    imap: { host: 'imap.gmail.com', port: 993, tls: 'secure' },
    smtp: { host: 'smtp.gmail.com', port: 465, tls: 'secure' },
    login: 'address',
    auth: 'app_password',
    secretAdvice: 'turn on 2-Step Verification, then create an app password in your Google account (Security, App passwords)',
    oauth2: 'google',
  },
  outlook: {
    id: 'outlook',
    label: 'Outlook.com / Microsoft 365',
    domains: ['outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'outlook.de', 'hotmail.co.uk', 'live.co.uk'],
    imap: { host: 'outlook.office365.com', port: 993, tls: 'secure' },
    smtp: { host: 'smtp.office365.com', port: 587, tls: 'starttls' },
    login: 'address',
    auth: 'oauth2',
    secretAdvice:
      'Microsoft turned passwords off for IMAP and SMTP: a password or app password works only where an administrator ' +
      'enabled SMTP AUTH and basic authentication for the mailbox; otherwise give an OAuth2 access token (access_token_env)',
    oauth2: 'microsoft',
  },
  fastmail: {
    id: 'fastmail',
    label: 'Fastmail',
    domains: ['fastmail.com', 'fastmail.fm', 'fastmail.net', 'fastmail.org', 'messagingengine.com'],
    imap: { host: 'imap.fastmail.com', port: 993, tls: 'secure' },
    smtp: { host: 'smtp.fastmail.com', port: 465, tls: 'secure' },
    login: 'address',
    auth: 'app_password',
    secretAdvice: 'create an app password with IMAP and SMTP access in Fastmail settings (Privacy & Security, App passwords)',
    oauth2: undefined,
  },
  icloud: {
    id: 'icloud',
    label: 'iCloud Mail',
    domains: ['icloud.com', 'me.com', 'mac.com'],
    imap: { host: 'imap.mail.me.com', port: 993, tls: 'secure' },
    smtp: { host: 'smtp.mail.me.com', port: 587, tls: 'starttls' },
    login: 'address',
    auth: 'app_password',
    secretAdvice: 'create an app-specific password in your Apple Account (Sign-In and Security, App-Specific Passwords)',
    oauth2: undefined,
  },
  yahoo: {
    id: 'yahoo',
    label: 'Yahoo Mail',
    domains: ['yahoo.com', 'ymail.com', 'rocketmail.com', 'yahoo.co.uk', 'yahoo.fr', 'yahoo.de', 'yahoo.co.jp'],
    imap: { host: 'imap.mail.yahoo.com', port: 993, tls: 'secure' },
    smtp: { host: 'smtp.mail.yahoo.com', port: 465, tls: 'secure' },
    login: 'address',
    auth: 'app_password',
    secretAdvice: 'create an app password in your Yahoo account (Account Security, Generate app password)',
    oauth2: undefined,
  },
  generic: {
    id: 'generic',
    label: 'Other IMAP/SMTP server',
    domains: [],
    imap: undefined,
    smtp: undefined,
    login: 'address',
    auth: 'password',
    secretAdvice: null,
    oauth2: undefined,
  },
};

/** The preset whose domains hold the address's domain, else `generic`. */
export function presetForAddress(address: string): ProviderPreset {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  return Object.values(PRESETS).find((p) => p.domains.includes(domain)) ?? PRESETS.generic;
}

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value);
}

/** The usual TLS mode of a port, for a port given without one: implicit TLS on 993/465, else STARTTLS (never plain text unasked). */
export function tlsForPort(port: number): TlsMode {
  return port === 993 || port === 465 ? 'secure' : 'starttls';
}

/** The usual port of a TLS mode, for a host given without a port. */
export function portFor(protocol: 'imap' | 'smtp', tls: TlsMode): number {
  if (protocol === 'imap') return tls === 'secure' ? 993 : 143;
  return tls === 'secure' ? 465 : 587;
}
