/**
 * What `mailgate init` refuses before it touches a server or a file: a pipe instead of a terminal without
 * --yes (it must not wait on a prompt), each missing or wrong flag by name, and a config file it cannot add
 * to. Also the preset guessed from an address, and flags arriving camelCased from another parser.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCommand } from '../../src/cli/init.js';
import { loadConfig } from '../../src/config/load.js';
import { presetForAddress } from '../../src/config/presets.js';
import { MailgateError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt } from './harness.js';
import { readJson, runInit, scriptedTerminal } from './init-harness.js';

const tmp = tempDir('mailgate-e2e-init-refusals-');
const base = {
  yes: true,
  address: 'ann@example.org',
  provider: 'generic',
  'password-env': 'ANN_PW',
  'imap-host': 'imap.example.org',
  'smtp-host': 'smtp.example.org',
  'no-test': true,
};

async function refusal(values: Record<string, unknown>): Promise<MailgateError> {
  const err = await initCommand({ config: tmp.file('never.json'), ...values }, {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MailgateError);
  expect(existsSync(tmp.file('never.json'))).toBe(false);
  return err as MailgateError;
}

describe('mailgate init refusals', () => {
  beforeAll(() => assertBuilt());
  afterAll(() => tmp.cleanup());

  it('without --yes and with stdin a pipe, refuses at once and says to pass --yes and the flags', async () => {
    const started = Date.now();
    const r = await runInit({ address: 'ann@example.org', config: tmp.file('pipe.json') }, { home: tmp.path, stdin: 'pipe', timeoutMs: 10_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/INVALID_INPUT: --yes: stdin is not a terminal.*pass --yes with the answers as flags: --address A --provider P/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(tmp.file('pipe.json'))).toBe(false);
  });

  it('names each missing or wrong flag', async () => {
    const { address: _a, ...noAddress } = base;
    expect(await refusal(noAddress)).toMatchObject({ code: 'INVALID_INPUT', field: '--address' });
    const { provider: _p, ...noProvider } = base;
    const missingProvider = await refusal({ ...noProvider, address: 'ann@gmail.com' });
    expect(missingProvider).toMatchObject({ code: 'INVALID_INPUT', field: '--provider' });
    expect(missingProvider.message).toContain('(for ann@gmail.com: gmail)');
    expect(await refusal({ ...base, provider: 'aol' })).toMatchObject({ field: '--provider' });
    const { 'password-env': _e, ...noSecret } = base;
    const secret = await refusal(noSecret);
    expect(secret).toMatchObject({ field: '--password-env' });
    expect(secret.message).toContain('--password-file');
    expect(await refusal({ ...base, 'password-file': '/run/x' })).toMatchObject({ field: '--password-env' });
    expect(await refusal({ ...base, 'password-env': '1BAD' })).toMatchObject({ field: '--password-env' });
    const { 'imap-host': _h, ...noImapHost } = base;
    expect(await refusal(noImapHost)).toMatchObject({ field: '--imap-host' });
    const { 'smtp-host': _s, ...noSmtpHost } = base;
    expect(await refusal(noSmtpHost)).toMatchObject({ field: '--smtp-host' });
    expect(await refusal({ ...base, 'imap-port': '99999' })).toMatchObject({ field: '--imap-port' });
    expect(await refusal({ ...base, 'smtp-tls': 'ssl' })).toMatchObject({ field: '--smtp-tls' });
    expect(await refusal({ ...base, mode: 'gated' })).toMatchObject({ field: '--mode' });
    expect(await refusal({ ...base, client: 'emacs' })).toMatchObject({ field: '--client' });
    expect(await refusal({ ...base, address: 'not an address' })).toMatchObject({ code: 'INVALID_INPUT', field: 'address' });
  });

  it('refuses to add to a file that is not a valid config, and leaves it as it was', async () => {
    const broken = tmp.file('broken.json');
    writeFileSync(broken, '{ "mailboxes": [ }');
    const err = await initCommand({ ...base, config: broken }, {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((err as Error).message).toMatch(/not valid JSON: .* at line 1, column 18/);
    expect(readFileSync(broken, 'utf8')).toBe('{ "mailboxes": [ }');
    const unknownKey = tmp.file('unknown-key.json');
    writeFileSync(unknownKey, '{ "mailbox": [] }');
    expect(await initCommand({ ...base, config: unknownKey }, {}).catch((e: unknown) => e)).toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('guesses the preset from the address and fills in its servers; camelCased flags work the same', async () => {
    expect(
      ['a@gmail.com', 'a@googlemail.com', 'a@hotmail.com', 'a@fastmail.com', 'a@me.com', 'a@yahoo.co.uk', 'a@acme.example'].map((a) => presetForAddress(a).id),
    ).toEqual(['gmail', 'gmail', 'outlook', 'fastmail', 'icloud', 'yahoo', 'generic']);
    const config = tmp.file('camel.json');
    const values = { yes: true, address: 'Me@Outlook.com', provider: 'outlook', passwordEnv: 'OUTLOOK_PW', test: false, smtpPort: 465, config };
    const r = await runInit(values, { home: tmp.path });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Outlook.com / Microsoft 365: Microsoft turned passwords off for IMAP and SMTP');
    expect(readJson(config).mailboxes[0]).toEqual({
      address: 'me@outlook.com',
      oversight_mode: 'gated_send',
      imap: { host: 'outlook.office365.com', port: 993, secure: true, user: 'Me@Outlook.com', password_env: 'OUTLOOK_PW' },
      // A port given alone takes that port's usual TLS: 465 is TLS from the first byte.
      smtp: { host: 'smtp.office365.com', port: 465, secure: true, user: 'Me@Outlook.com', password_env: 'OUTLOOK_PW' },
    });
  });

  it('OAuth2 for Gmail: both sides get the same oauth2 block, the output says how to get the refresh token', async () => {
    const config = tmp.file('oauth2.json');
    const values = {
      yes: true,
      address: 'ann@gmail.com',
      provider: 'gmail',
      'client-id': 'app-123.apps.googleusercontent.com',
      'refresh-token-env': 'ANN_REFRESH',
      'client-secret-env': 'ANN_CLIENT_SECRET',
      'no-test': true,
      client: 'claude-desktop',
      config,
    };
    const r = await runInit(values, { home: tmp.path });
    expect(r.code, r.stderr).toBe(0);
    const oauth2 = {
      provider: 'google',
      client_id: 'app-123.apps.googleusercontent.com',
      refresh_token_env: 'ANN_REFRESH',
      client_secret_env: 'ANN_CLIENT_SECRET',
    };
    const entry = readJson(config).mailboxes[0]!;
    expect(entry.imap).toEqual({ host: 'imap.gmail.com', port: 993, secure: true, user: 'ann@gmail.com', oauth2 });
    expect(entry.smtp).toEqual({ host: 'smtp.gmail.com', port: 465, secure: true, user: 'ann@gmail.com', oauth2 });
    expect(loadConfig({ config }, { ANN_REFRESH: 'r', ANN_CLIENT_SECRET: 's' }).accounts.has('ann@gmail.com')).toBe(true);
    expect(r.stdout).toContain('mailgate oauth login --provider google --client-id app-123.apps.googleusercontent.com --client-secret-env ANN_CLIENT_SECRET');
    const snippet = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1));
    expect(Object.keys(snippet.mcpServers.mailgate.env)).toEqual(['MAILGATE_CONFIG', 'ANN_REFRESH', 'ANN_CLIENT_SECRET']);
    // OAuth2 only where the preset has it, and never beside a password source.
    expect(await refusal({ ...base, 'password-env': undefined, 'client-id': 'x', 'refresh-token-env': 'R' })).toMatchObject({ field: '--client-id' });
    const gmail = { ...base, address: 'ann@gmail.com', provider: 'gmail', 'password-env': undefined, 'client-id': 'x' };
    expect(await refusal(gmail)).toMatchObject({ field: '--refresh-token-env' });
    expect(await refusal({ ...gmail, 'refresh-token-env': 'R', 'password-file': '/x' })).toMatchObject({ field: '--client-id' });
  });

  it('Ctrl+C at a question stops with 130 and writes nothing', async () => {
    const config = tmp.file('stopped.json');
    const t = scriptedTerminal();
    const done = initCommand({ config, address: 'ann@example.org' }, {}, t.terminal);
    await t.answer('Provider', '\x03');
    expect(await done).toBe(130);
    expect(t.screen()).toContain(`stopped; nothing was written to ${config}`);
    expect(existsSync(config)).toBe(false);
  });
});
