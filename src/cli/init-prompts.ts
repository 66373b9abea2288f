/**
 * `mailgate init`'s questions, asked with @inquirer/prompts on the given terminal. A question whose flag was
 * given is not asked, so `mailgate init --address a@b.example` asks only the rest.
 */
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { confirm, input, number, password, select } from '@inquirer/prompts';
import { PRESETS, PROVIDER_IDS, type ProviderId, portFor, presetForAddress, type ServerPreset, type TlsMode } from '../config/presets.js';
import { EmailAddress, OVERSIGHT_MODES, type OversightMode } from '../values.js';
import { checkEnvName, checkMode, checkProvider, type InitAnswers, type InitFlags, type SecretSource, secretFromFlags, serverFrom } from './init-answers.js';
import { CLIENT_LABELS, CLIENTS, type Client, checkClient } from './init-snippet.js';

export interface Terminal {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** One line each, shown beside the mode so the choice is made knowing what it does. */
const MODE_LINES: Readonly<Record<OversightMode, string>> = {
  read_only: 'reads only; every send and every change is refused',
  gated_all: 'every send and change (flags, moves) waits for your approval',
  gated_send: 'every send waits for your approval; the rest runs (default)',
  monitored: 'sends go at once, each recorded for you to review',
  autonomous: 'sends go at once, no approval',
};

const TLS_LINES: Readonly<Record<TlsMode, string>> = {
  secure: 'TLS from the first byte (usually IMAP 993, SMTP 465)',
  starttls: 'a plain port upgraded to TLS (usually IMAP 143, SMTP 587)',
  none: 'no TLS: the password crosses in plain text (local servers only)',
};

export class Prompter {
  constructor(private readonly term: Terminal) {}

  /**
   * Each prompt pipes its output into the context's stream and ends it when done; process.stdout ignores that,
   * any other stream would be closed after the first question. A stream per prompt keeps the terminal open.
   */
  private get ctx(): Terminal {
    // Straight to stdout when it is the terminal: a stream in between would let say() overtake a prompt's last line.
    if (this.term.output === process.stdout) return this.term;
    const output = new PassThrough();
    output.pipe(this.term.output, { end: false });
    return { input: this.term.input, output };
  }

  say(text: string): void {
    this.term.output.write(`${text}\n`);
  }

  async address(f: InitFlags): Promise<string> {
    if (f.address !== undefined) return f.address;
    return input(
      { message: 'Mailbox address', validate: (v) => EmailAddress.safeParse(v).error?.issues[0]?.message ?? true, transformer: (v) => v.trim() },
      this.ctx,
    ).then((v) => v.trim());
  }

  /** Asked when the address is already in the file and --force was not given. */
  replace(address: string, file: string): Promise<boolean> {
    return confirm({ message: `${address} is already in ${file}. Replace its entry?`, default: false }, this.ctx);
  }

  /** Everything but the address and the replace question, in the order a person thinks of them. */
  async rest(f: InitFlags, address: string): Promise<InitAnswers> {
    const provider =
      f.provider !== undefined
        ? checkProvider(f.provider, address)
        : await select(
            {
              message: 'Provider',
              choices: PROVIDER_IDS.map((id) => ({ value: id, name: PRESETS[id].label })),
              default: presetForAddress(address).id,
            },
            this.ctx,
          );
    const preset = PRESETS[provider];
    const imap = serverFrom('imap', preset.imap, f.imap) ?? (await this.server('imap', f.imap.port));
    const smtp = serverFrom('smtp', preset.smtp, f.smtp) ?? (await this.server('smtp', f.smtp.port));
    const user = f.user ?? (await input({ message: 'User name (login)', default: address }, this.ctx)).trim();
    if (preset.secretAdvice) this.say(`${preset.label}: ${preset.secretAdvice}.`);
    const secret = await this.secret(f, address, provider);
    const mode =
      f.mode !== undefined
        ? checkMode(f.mode)
        : await select(
            {
              message: 'Oversight mode',
              choices: OVERSIGHT_MODES.map((m) => ({ value: m, name: `${m.padEnd(10)}  ${MODE_LINES[m]}`, short: m })),
              default: 'gated_send',
            },
            this.ctx,
          );
    return { address, provider, user, secret, imap, smtp, mode, displayName: f.displayName };
  }

  private async server(protocol: 'imap' | 'smtp', givenPort: number | undefined): Promise<ServerPreset> {
    const name = protocol.toUpperCase();
    const host = await input({ message: `${name} server host`, validate: (v) => v.trim() !== '' || 'give the host name' }, this.ctx);
    const tls = await select<TlsMode>(
      {
        message: `${name} security`,
        choices: (['secure', 'starttls', 'none'] as const).map((t) => ({ value: t, name: `${t.padEnd(8)}  ${TLS_LINES[t]}`, short: t })),
        default: protocol === 'imap' ? 'secure' : 'starttls',
      },
      this.ctx,
    );
    const port = givenPort ?? (await number({ message: `${name} port`, default: portFor(protocol, tls), min: 1, max: 65535, required: true }, this.ctx));
    return { host: host.trim(), port: port ?? portFor(protocol, tls), tls };
  }

  private async secret(f: InitFlags, address: string, provider: ProviderId): Promise<SecretSource> {
    if (f.passwordEnv !== undefined || f.passwordFile !== undefined || f.clientId !== undefined) return secretFromFlags(f, provider);
    const oauth2 = PRESETS[provider].oauth2;
    const kind = await select(
      {
        message: 'Where does mailgate get the password? (never written to the config)',
        choices: [
          { value: 'env' as const, name: 'an environment variable, set in your MCP client’s env block', short: 'environment variable' },
          { value: 'file' as const, name: 'a file that holds only the password', short: 'file' },
          ...(oauth2
            ? [{ value: 'oauth2' as const, name: `OAuth2: sign in at ${oauth2} with 'mailgate oauth login' (needs an app's client id)`, short: 'OAuth2' }]
            : []),
        ],
      },
      this.ctx,
    );
    if (kind === 'oauth2' && oauth2) return this.oauth2(address, oauth2);
    if (kind === 'file') {
      const path = await input({ message: 'Password file', validate: (v) => v.trim() !== '' || 'give the file’s path' }, this.ctx);
      return { kind: 'file', path: resolve(path.trim()) };
    }
    const name = await input(
      { message: 'Environment variable name', default: defaultEnvName(address), validate: (v) => checkEnvName(v.trim()) ?? true },
      this.ctx,
    );
    return { kind: 'env', name: name.trim() };
  }

  private async oauth2(address: string, provider: 'google' | 'microsoft'): Promise<SecretSource> {
    const envName = (message: string, fallback: string | undefined) =>
      input({ message, default: fallback, validate: (v) => v.trim() === '' || (checkEnvName(v.trim()) ?? true) }, this.ctx).then((v) => v.trim());
    const clientId = (
      await input({ message: 'OAuth2 client id (from your app registration)', validate: (v) => v.trim() !== '' || 'give the client id' }, this.ctx)
    ).trim();
    let refreshTokenEnv = '';
    while (refreshTokenEnv === '') refreshTokenEnv = await envName('Variable for the refresh token', defaultEnvName(address, 'REFRESH_TOKEN'));
    const clientSecretEnv = await envName('Variable for the client secret (empty for none)', undefined);
    return { kind: 'oauth2', provider, clientId, refreshTokenEnv, clientSecretEnv: clientSecretEnv || undefined };
  }

  /** The password for the connection test only; an empty answer skips the test. */
  async testPassword(variable: string): Promise<string> {
    return password(
      { message: `${variable} is not set here. Password, only to test the connection (not stored; empty to skip the test)`, mask: '*' },
      this.ctx,
    );
  }

  writeAnyway(): Promise<boolean> {
    return confirm({ message: 'The connection test failed. Write the config anyway?', default: false }, this.ctx);
  }

  async client(f: InitFlags): Promise<Client | undefined> {
    if (f.client !== undefined) return checkClient(f.client);
    const choice = await select<Client | 'all'>(
      {
        message: 'Which MCP client will start mailgate?',
        choices: [...CLIENTS.map((c) => ({ value: c, name: CLIENT_LABELS[c] })), { value: 'all' as const, name: 'show them all' }],
      },
      this.ctx,
    );
    return choice === 'all' ? undefined : choice;
  }
}

/** `SUPPORT_PASSWORD` for support@acme.example: a name that says whose password it is (MAILGATE_* are mailgate's own settings). */
function defaultEnvName(address: string, what = 'PASSWORD'): string {
  const local = address
    .slice(0, address.lastIndexOf('@'))
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  // A shell variable name cannot start with a digit.
  return `${/^[A-Z]/.test(local) ? local : `MAIL_${local}`.replace(/_$/, '')}_${what}`;
}
