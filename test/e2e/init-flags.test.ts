/**
 * `mailgate init --yes` against the private Dovecot and Postfix (the generic preset with their host and ports):
 * the file it writes loads and passes `mailgate doctor`, it keeps what the file held, refuses a listed address
 * without --force, and writes nothing when the login fails. The password never reaches the file or the output.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type MailServers, type MailUser, requireMailServersOrSkip, startMailServers } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli } from './harness.js';
import { fileMode, readJson, runInit } from './init-harness.js';

const tmp = tempDir('mailgate-e2e-init-');
let mail: MailServers;
let alice: MailUser;
let bob: MailUser;

/** The flags for one of the harness's users, on its plain-text ports. */
function flags(u: MailUser, config: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    yes: true,
    address: u.address,
    provider: 'generic',
    'password-env': 'INIT_PW',
    'imap-host': mail.imap.host,
    'imap-port': String(mail.imap.port),
    'imap-tls': 'none',
    'smtp-host': mail.smtp.host,
    'smtp-port': String(mail.smtp.port),
    'smtp-tls': 'none',
    config,
    ...extra,
  };
}

describe.skipIf(!requireMailServersOrSkip())('mailgate init --yes against real IMAP and SMTP servers', () => {
  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['alice', 'bob'] });
    [alice, bob] = mail.users as [MailUser, MailUser];
  }, 60_000);
  afterAll(async () => {
    await mail?.stop();
    tmp.cleanup();
  });

  it('writes a private config that loadConfig accepts and mailgate doctor passes, holding no password', async () => {
    const config = tmp.file('new/mailgate.config.json');
    const r = await runInit(flags(alice, config, { mode: 'monitored', client: 'claude-desktop' }), { home: tmp.path, env: { INIT_PW: alice.password } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ imap alice@mailgate\.test: .*logged in/m);
    expect(r.stdout).toMatch(/^✓ smtp alice@mailgate\.test: .*logged in/m);
    expect(r.stdout + r.stderr).not.toContain(alice.password);
    expect(readFileSync(config, 'utf8')).not.toContain(alice.password);
    expect(fileMode(config)).toBe(0o600);
    const written = readJson(config).mailboxes[0]!;
    expect(written).toMatchObject({
      address: alice.address,
      oversight_mode: 'monitored',
      imap: { host: '127.0.0.1', port: mail.imap.port, secure: false, user: alice.address, password_env: 'INIT_PW' },
      smtp: { host: '127.0.0.1', port: mail.smtp.port, secure: false, user: alice.address, password_env: 'INIT_PW' },
    });
    const loaded = loadConfig({ config }, { INIT_PW: alice.password });
    expect(loaded.accounts.get(alice.address)?.imap.port).toBe(mail.imap.port);
    // The snippet names the config and the variable, with a placeholder where the password goes.
    const snippet = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'), r.stdout.lastIndexOf('}') + 1));
    expect(snippet.mcpServers.mailgate).toEqual({
      command: 'npx',
      args: ['-y', 'mailgate'],
      env: { MAILGATE_CONFIG: config, INIT_PW: '<the value of INIT_PW>' },
    });
    expect(r.stdout).toContain(`mailgate doctor --config ${config}`);
    const doctor = await runCli(['doctor', '--config', config, '--db', tmp.file('doctor.db')], {
      home: tmp.path,
      env: { INIT_PW: alice.password },
      timeoutMs: 25_000,
    });
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain('all checks passed');
  });

  it('adds to an existing file, keeping its other mailboxes and keys', async () => {
    const config = tmp.file('merge.json');
    const before = {
      require_approval: true,
      contact_lists: { team: ['x@example.com'] },
      mailboxes: [{ address: 'sandbox@mailgate.test', oversight_mode: 'autonomous', pending_ttl: '24h' }],
    };
    writeFileSync(config, JSON.stringify(before));
    const r = await runInit(flags(bob, config), { home: tmp.path, env: { INIT_PW: bob.password } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const after = readJson(config);
    expect(after.require_approval).toBe(true);
    expect(after.contact_lists).toEqual(before.contact_lists);
    expect(after.mailboxes[0]).toEqual(before.mailboxes[0]);
    expect(after.mailboxes[1]).toMatchObject({ address: bob.address, oversight_mode: 'gated_send' });
    expect(fileMode(config)).toBe(0o600);
    expect(loadConfig({ config }, { INIT_PW: bob.password }).config.mailboxes.map((m) => m.address)).toEqual(['sandbox@mailgate.test', bob.address]);
  });

  it('refuses an address already in the file unless --force, which replaces that entry in place', async () => {
    const config = tmp.file('twice.json');
    writeFileSync(
      config,
      JSON.stringify({ mailboxes: [{ address: alice.address.toUpperCase(), oversight_mode: 'read_only' }, { address: 'other@mailgate.test' }] }),
    );
    const before = readFileSync(config, 'utf8');
    const refused = await runInit(flags(alice, config), { home: tmp.path, env: { INIT_PW: alice.password } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/MAILBOX_EXISTS: alice@mailgate\.test is already in .*twice\.json \(mailboxes\[0\]\).*--force/);
    expect(readFileSync(config, 'utf8')).toBe(before);
    const forced = await runInit(flags(alice, config, { force: true, mode: 'gated_all' }), { home: tmp.path, env: { INIT_PW: alice.password } });
    expect(forced.code, forced.stdout + forced.stderr).toBe(0);
    expect(forced.stdout).toContain('Replaced alice@mailgate.test');
    const after = readJson(config);
    expect(after.mailboxes.map((m) => [m.address, m.oversight_mode])).toEqual([
      [alice.address, 'gated_all'],
      ['other@mailgate.test', undefined],
    ]);
  });

  it('a wrong password fails the test with the hint and writes nothing', async () => {
    const wrong = 'Not-The-Password-7';
    const config = tmp.file('wrong.json');
    const r = await runInit(flags(alice, config), { home: tmp.path, env: { INIT_PW: wrong } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ imap alice@mailgate\.test: .*fix: authentication failed: check the password variable INIT_PW/m);
    expect(r.stdout).toMatch(/^✗ smtp alice@mailgate\.test: .*fix: authentication failed: check the password variable INIT_PW/m);
    expect(r.stdout).toContain(`nothing was written to ${config}`);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    expect(existsSync(config)).toBe(false);
    // The same file existing already is left exactly as it was.
    writeFileSync(config, '{ "mailboxes": [] }\n');
    const again = await runInit(flags(alice, config), { home: tmp.path, env: { INIT_PW: wrong } });
    expect(again.code).toBe(1);
    expect(readFileSync(config, 'utf8')).toBe('{ "mailboxes": [] }\n');
  });

  it('a password file: the entry names the file, the test reads it, and --no-test skips a test that would fail', async () => {
    const secretFile = tmp.file('bob.secret');
    writeFileSync(secretFile, `${bob.password}\n`, { mode: 0o600 });
    const config = tmp.file('file-secret.json');
    const r = await runInit(flags(bob, config, { 'password-env': undefined, 'password-file': secretFile, client: 'vscode' }), { home: tmp.path });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(readJson(config).mailboxes[0]).toMatchObject({ imap: { password_file: secretFile }, smtp: { password_file: secretFile } });
    expect(readFileSync(config, 'utf8')).not.toContain(bob.password);
    // An unset variable cannot be tested; --no-test writes the entry for the person to check with doctor later.
    const untested = tmp.file('untested.json');
    const noTest = await runInit(flags(bob, untested, { 'password-env': 'NOT_SET_HERE', 'no-test': true }), { home: tmp.path });
    expect(noTest.code, noTest.stdout + noTest.stderr).toBe(0);
    expect(noTest.stdout).not.toMatch(/^[✓✗]/m);
    expect(readJson(untested).mailboxes[0]).toMatchObject({ imap: { password_env: 'NOT_SET_HERE' } });
    const unset = await runInit(flags(bob, tmp.file('unset.json'), { 'password-env': 'NOT_SET_HERE' }), { home: tmp.path });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('INVALID_INPUT: --password-env: NOT_SET_HERE is not set');
    expect(existsSync(tmp.file('unset.json'))).toBe(false);
  });
});
