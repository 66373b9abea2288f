/**
 * `mailgate init`'s questions answered through the prompts' own input stream, keystroke by keystroke, against
 * the private Dovecot and Postfix: the generic preset asks for the servers, a password variable not set here is
 * asked for once (masked) only to test, and the file written holds the answers but never the password. A
 * failed test asks before writing, and the default answer writes nothing.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initCommand } from '../../src/cli/init.js';
import { loadConfig } from '../../src/config/load.js';
import { type MailServers, type MailUser, requireMailServersOrSkip, startMailServers } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { fileMode, KEY, readJson, scriptedTerminal } from './init-harness.js';

const tmp = tempDir('mailgate-e2e-init-tty-');
let mail: MailServers;
let alice: MailUser;

describe.skipIf(!requireMailServersOrSkip())('mailgate init, asked and answered at a terminal', () => {
  beforeAll(async () => {
    mail = await startMailServers({ users: ['alice'] });
    alice = mail.users[0]!;
  }, 60_000);
  afterAll(async () => {
    await mail?.stop();
    tmp.cleanup();
  });

  it('asks everything, tests with a password typed once, and writes the answers', async () => {
    const config = tmp.file('asked.json');
    const t = scriptedTerminal();
    const done = initCommand({ config }, {}, t.terminal);
    await t.answer('Mailbox address', `${alice.address}${KEY.enter}`);
    // mailgate.test matches no preset, so the guess is the generic one: Enter takes it.
    await t.answer('Provider', KEY.enter);
    await t.answer('IMAP server host', `${mail.imap.host}${KEY.enter}`);
    await t.answer('IMAP security', `${KEY.down}${KEY.down}${KEY.enter}`); // secure, starttls, none
    await t.answer('IMAP port', `${mail.imap.port}${KEY.enter}`);
    await t.answer('SMTP server host', `${mail.smtp.host}${KEY.enter}`);
    await t.answer('SMTP security', `${KEY.down}${KEY.enter}`); // the default is starttls, then none
    await t.answer('SMTP port', `${mail.smtp.port}${KEY.enter}`);
    await t.answer('User name (login)', KEY.enter);
    await t.answer('Where does mailgate get the password?', KEY.enter);
    await t.answer('Environment variable name', KEY.enter);
    await t.answer('Oversight mode', `${KEY.down}${KEY.enter}`); // from gated_send to monitored
    await t.answer('ALICE_PASSWORD is not set here', `${alice.password}${KEY.enter}`);
    await t.answer('Which MCP client', `${KEY.down}${KEY.down}${KEY.down}${KEY.enter}`); // VS Code
    expect(await done, t.screen()).toBe(0);

    expect(t.screen()).toMatch(/✓ imap alice@mailgate\.test: .*logged in/);
    expect(t.screen()).toMatch(/✓ smtp alice@mailgate\.test: .*logged in/);
    expect(t.screen()).not.toContain(alice.password);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: VS Code's own placeholder syntax, not a template
    expect(t.screen()).toContain('"ALICE_PASSWORD": "${input:mailgate-alice-password}"');
    const text = readFileSync(config, 'utf8');
    expect(text).not.toContain(alice.password);
    expect(fileMode(config)).toBe(0o600);
    const side = (port: number) => ({ host: '127.0.0.1', port, secure: false, user: alice.address, password_env: 'ALICE_PASSWORD' });
    expect(readJson(config).mailboxes).toEqual([
      { address: alice.address, oversight_mode: 'monitored', imap: side(mail.imap.port), smtp: side(mail.smtp.port) },
    ]);
    expect(loadConfig({ config }, { ALICE_PASSWORD: alice.password }).accounts.has(alice.address)).toBe(true);
  });

  it('with some answers given as flags, asks the rest; a listed address and a failed test are confirmed, and No writes nothing', async () => {
    const config = tmp.file('listed.json');
    const original = `${JSON.stringify({ mailboxes: [{ address: alice.address, oversight_mode: 'read_only' }] }, null, 2)}\n`;
    writeFileSync(config, original);
    const wrong = 'Typed-Wrong-55';
    const t = scriptedTerminal();
    const flags = {
      config,
      address: alice.address,
      provider: 'generic',
      'password-env': 'ALICE_PW',
      'imap-host': mail.imap.host,
      'imap-port': String(mail.imap.port),
      'imap-tls': 'none',
      'smtp-host': mail.smtp.host,
      'smtp-port': String(mail.smtp.port),
      'smtp-tls': 'none',
    };
    const done = initCommand(flags, {}, t.terminal);
    await t.answer('is already in', `y${KEY.enter}`);
    await t.answer('User name (login)', KEY.enter);
    await t.answer('Oversight mode', KEY.enter);
    await t.answer('ALICE_PW is not set here', `${wrong}${KEY.enter}`);
    await t.answer('Write the config anyway?', KEY.enter);
    expect(await done, t.screen()).toBe(1);
    expect(t.screen()).toMatch(/✗ imap alice@mailgate\.test: .*fix: authentication failed: check the password variable ALICE_PW/);
    expect(t.screen()).toContain(`nothing was written to ${config}`);
    expect(t.screen()).not.toContain(wrong);
    expect(t.screen()).not.toMatch(/Provider|IMAP server host|Where does mailgate/);
    expect(readFileSync(config, 'utf8')).toBe(original);
    expect(existsSync(`${config}.tmp`)).toBe(false);
  });
});
