/**
 * What `mailgate init` needs to know, read from its flags, and the config entry built from it. The
 * interactive flow (init-prompts.ts) fills the same shape, asking only for what the flags left out.
 */
import { resolve } from 'node:path';
import { invalid } from '../errors.js';
import {
  isProviderId,
  PRESETS,
  PROVIDER_IDS,
  portFor,
  presetForAddress,
  type ProviderId,
  type ServerPreset,
  type TlsMode,
  tlsForPort,
} from '../config/presets.js';
import type { MailboxEntry } from '../services/setup.js';
import { canonicalAddress, OVERSIGHT_MODES, type OversightMode } from '../values.js';

export type SecretSource =
  | { kind: 'env'; name: string }
  | { kind: 'file'; path: string }
  /** A refresh token from `mailgate oauth login`, renewed into access tokens by mailgate (schema's `oauth2`). */
  | { kind: 'oauth2'; provider: 'google' | 'microsoft'; clientId: string; refreshTokenEnv: string; clientSecretEnv: string | undefined };

/** The environment variables the MCP client must pass to mailgate for this secret. */
export function secretVariables(s: SecretSource): string[] {
  if (s.kind === 'env') return [s.name];
  if (s.kind === 'oauth2') return [s.refreshTokenEnv, ...(s.clientSecretEnv ? [s.clientSecretEnv] : [])];
  return [];
}

export interface InitAnswers {
  address: string;
  provider: ProviderId;
  user: string;
  secret: SecretSource;
  imap: ServerPreset;
  smtp: ServerPreset;
  mode: OversightMode;
  displayName: string | undefined;
}

/** The flags, each either given or undefined, whichever parser produced them. */
export interface InitFlags {
  yes: boolean;
  address: string | undefined;
  provider: string | undefined;
  user: string | undefined;
  passwordEnv: string | undefined;
  passwordFile: string | undefined;
  clientId: string | undefined;
  clientSecretEnv: string | undefined;
  refreshTokenEnv: string | undefined;
  imap: SideFlags;
  smtp: SideFlags;
  mode: string | undefined;
  displayName: string | undefined;
  test: boolean;
  config: string | undefined;
  force: boolean;
  client: string | undefined;
}

interface SideFlags {
  host: string | undefined;
  port: number | undefined;
  tls: TlsMode | undefined;
}

const TLS_MODES: readonly TlsMode[] = ['secure', 'starttls', 'none'];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads the flags under their command-line names (`password-env`, node:util parseArgs) or camelCased
 * (`passwordEnv`, commander), so init does not depend on which parser main.ts uses. `--no-test` arrives as
 * `no-test: true` or as `test: false`.
 */
export function readFlags(values: Record<string, unknown>): InitFlags {
  const get = (name: string): unknown => values[name] ?? values[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())];
  const text = (name: string): string | undefined => {
    const v = get(name);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw invalid(`--${name}`, 'expected a value');
    return v.trim() === '' ? undefined : v.trim();
  };
  const side = (p: 'imap' | 'smtp'): SideFlags => {
    const tls = text(`${p}-tls`);
    if (tls !== undefined && !(TLS_MODES as readonly string[]).includes(tls)) {
      throw invalid(`--${p}-tls`, `'${tls}' is not a TLS mode; use secure (TLS from the first byte, ports 993/465), starttls or none`);
    }
    const port = get(`${p}-port`);
    return { host: text(`${p}-host`), port: port === undefined ? undefined : parsePort(port, `--${p}-port`), tls: tls as TlsMode | undefined };
  };
  return {
    yes: get('yes') === true,
    address: text('address'),
    provider: text('provider'),
    user: text('user'),
    passwordEnv: text('password-env'),
    passwordFile: text('password-file'),
    clientId: text('client-id'),
    clientSecretEnv: text('client-secret-env'),
    refreshTokenEnv: text('refresh-token-env'),
    imap: side('imap'),
    smtp: side('smtp'),
    mode: text('mode'),
    displayName: text('display-name'),
    test: !(get('no-test') === true || values.test === false),
    config: text('config'),
    force: get('force') === true,
    client: text('client'),
  };
}

function parsePort(v: unknown, flag: string): number {
  const n = typeof v === 'number' ? v : /^\d+$/.test(String(v)) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw invalid(flag, `'${String(v)}' is not a port; give a number from 1 to 65535`);
  return n;
}

export function checkProvider(value: string, address: string | undefined): ProviderId {
  if (isProviderId(value)) return value;
  const guess = address ? ` (for ${address}: ${presetForAddress(address).id})` : '';
  throw invalid('--provider', `'${value}' is not a provider; use one of ${PROVIDER_IDS.join(', ')}${guess}`);
}

export function checkMode(value: string | undefined): OversightMode {
  if (value === undefined) return 'gated_send';
  if ((OVERSIGHT_MODES as readonly string[]).includes(value)) return value as OversightMode;
  throw invalid('--mode', `'${value}' is not an oversight mode; use one of ${OVERSIGHT_MODES.join(', ')}`);
}

export function checkEnvName(name: string): string | undefined {
  return ENV_NAME.test(name) ? undefined : 'an environment variable name: letters, digits and _, not starting with a digit';
}

/**
 * One side's server: the flags over the preset. A port given without a TLS mode takes the usual one for that
 * port, and a TLS mode without a port the usual port, so `--smtp-port 587` alone means STARTTLS.
 */
export function serverFrom(protocol: 'imap' | 'smtp', preset: ServerPreset | undefined, f: SideFlags): ServerPreset | undefined {
  const host = f.host ?? preset?.host;
  if (host === undefined) return undefined;
  const tls = f.tls ?? (f.port !== undefined ? tlsForPort(f.port) : (preset?.tls ?? (protocol === 'imap' ? 'secure' : 'starttls')));
  const port = f.port ?? (f.tls !== undefined || !preset ? portFor(protocol, tls) : preset.port);
  return { host, port, tls };
}

/** Every answer from the flags alone (`--yes`); a missing one is INVALID_INPUT naming its flag. */
export function answersFromFlags(f: InitFlags): InitAnswers {
  if (f.address === undefined) throw invalid('--address', 'missing: give the mailbox address, e.g. --address you@example.com');
  if (f.provider === undefined) {
    throw invalid('--provider', `missing: give one of ${PROVIDER_IDS.join(', ')} (for ${f.address}: ${presetForAddress(f.address).id})`);
  }
  const provider = checkProvider(f.provider, f.address);
  const preset = PRESETS[provider];
  const imap = serverFrom('imap', preset.imap, f.imap);
  if (!imap) throw invalid('--imap-host', `missing: the ${preset.label} preset names no server; give --imap-host (and --imap-port, --imap-tls)`);
  const smtp = serverFrom('smtp', preset.smtp, f.smtp);
  if (!smtp) throw invalid('--smtp-host', `missing: the ${preset.label} preset names no server; give --smtp-host (and --smtp-port, --smtp-tls)`);
  return {
    address: f.address,
    provider,
    user: f.user ?? f.address,
    secret: secretFromFlags(f, provider),
    imap,
    smtp,
    mode: checkMode(f.mode),
    displayName: f.displayName,
  };
}

/** The secret named by the flags; INVALID_INPUT naming the flag when none, or a conflicting pair, is given. */
export function secretFromFlags(f: InitFlags, provider: ProviderId): SecretSource {
  if (f.passwordEnv !== undefined && f.passwordFile !== undefined) {
    throw invalid('--password-env', 'give one of --password-env and --password-file, not both');
  }
  if (f.clientId !== undefined) return oauth2FromFlags(f, f.clientId, provider);
  if (f.passwordEnv !== undefined) {
    const problem = checkEnvName(f.passwordEnv);
    if (problem) throw invalid('--password-env', `'${f.passwordEnv}' is not ${problem}`);
    return { kind: 'env', name: f.passwordEnv };
  }
  // Absolute: mailgate reads the file from wherever the MCP client starts it, not from here.
  if (f.passwordFile !== undefined) return { kind: 'file', path: resolve(f.passwordFile) };
  throw invalid(
    '--password-env',
    'missing: say where the password comes from with --password-env VAR (an environment variable) or --password-file FILE; init never stores the password itself',
  );
}

function oauth2FromFlags(f: InitFlags, clientId: string, provider: ProviderId): SecretSource {
  const oauth2 = PRESETS[provider].oauth2;
  if (!oauth2) throw invalid('--client-id', `OAuth2 is offered for gmail and outlook only, not ${provider}; give --password-env or --password-file`);
  if (f.passwordEnv !== undefined || f.passwordFile !== undefined) {
    throw invalid('--client-id', 'OAuth2 (--client-id) replaces the password: drop --password-env / --password-file');
  }
  if (f.refreshTokenEnv === undefined) {
    throw invalid('--refresh-token-env', "missing: name the variable that will hold the refresh token from 'mailgate oauth login'");
  }
  for (const [flag, name] of [
    ['--refresh-token-env', f.refreshTokenEnv],
    ['--client-secret-env', f.clientSecretEnv],
  ] as const) {
    const problem = name === undefined ? undefined : checkEnvName(name);
    if (problem) throw invalid(flag, `'${name}' is not ${problem}`);
  }
  return { kind: 'oauth2', provider: oauth2, clientId, refreshTokenEnv: f.refreshTokenEnv, clientSecretEnv: f.clientSecretEnv };
}

/** The config entry: the secret only by where it comes from, and TLS spelled out so the file says what it does. */
export function entryFor(a: InitAnswers): MailboxEntry {
  const secret = secretKeys(a.secret);
  const side = (s: ServerPreset) => ({
    host: s.host,
    port: s.port,
    secure: s.tls === 'secure',
    ...(s.tls === 'starttls' ? { starttls: true } : {}),
    user: a.user,
    ...secret,
  });
  return {
    address: canonicalAddress(a.address),
    ...(a.displayName !== undefined ? { display_name: a.displayName } : {}),
    oversight_mode: a.mode,
    imap: side(a.imap),
    smtp: side(a.smtp),
  };
}

function secretKeys(s: SecretSource): Record<string, unknown> {
  if (s.kind === 'env') return { password_env: s.name };
  if (s.kind === 'file') return { password_file: s.path };
  // The same block on both sides: mailgate then keeps one token source for IMAP and SMTP.
  return {
    oauth2: {
      provider: s.provider,
      client_id: s.clientId,
      refresh_token_env: s.refreshTokenEnv,
      ...(s.clientSecretEnv ? { client_secret_env: s.clientSecretEnv } : {}),
    },
  };
}
