/**
 * `mailgate serve` checks each real account in the background once it answers (issue 12), against the private
 * Dovecot and Postfix: a config with deliberate mistakes (TLS on a plain-text IMAP port, a wrong SMTP password)
 * logs doctor's fix for each on stderr, a correct account logs ok, tools/list answers through a real SDK client
 * over stdio all the while, and no password is ever logged. MAILGATE_NO_STARTUP_CHECK=1 turns the check off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailServers, type MailUser, requireMailServersOrSkip, startMailServers } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, holdsFor, startServer, waitFor, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-startup-check-');
const WRONG = 'Wrong-Smtp-Pw-6502';
let mail: MailServers;
let bad: MailUser;
let good: MailUser;
let config = '';

interface Line {
  level: string;
  msg: string;
  [k: string]: unknown;
}

const logLines = (stderr: string): Line[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
const checkLines = (stderr: string) => logLines(stderr).filter((l) => l.msg.startsWith('start-up check'));

describe.skipIf(!requireMailServersOrSkip())('the start-up check of mailgate serve', () => {
  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['broken', 'fine'] });
    [bad, good] = mail.users as [MailUser, MailUser];
    const at = (port: number, extra: Record<string, unknown>) => ({ host: '127.0.0.1', port, ...extra });
    config = writeConfig(tmp.file('config.json'), {
      mailboxes: [
        {
          address: bad.address,
          oversight_mode: 'gated_send',
          // Mistake 1: TLS on a port that speaks plain text. Mistake 2: the SMTP password variable holds a wrong one.
          imap: at(mail.imap.port, { secure: true, user: bad.user, password: bad.password }),
          smtp: at(mail.smtp.port, { secure: false, user: bad.user, password_env: 'BROKEN_SMTP_PW' }),
        },
        {
          address: good.address,
          oversight_mode: 'gated_send',
          imap: at(mail.imap.port, { secure: false, user: good.user, password: good.password }),
          smtp: at(mail.smtp.port, { secure: false, user: good.user, password: good.password }),
        },
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await closeAll();
    await mail?.stop();
    tmp.cleanup();
  });

  it("logs each account mistake with doctor's fix while the MCP session answers", async () => {
    const s = await startServer({ role: 'agent', db: tmp.file('on.db'), home: tmp.path, config, env: { BROKEN_SMTP_PW: WRONG } });
    const { tools } = await s.client.listTools();
    expect(tools.map((t) => t.name)).toContain('send_email');
    await waitFor(() => checkLines(s.stderr()).length === 4, 20_000, `four start-up check lines in:\n${s.stderr()}`);
    const lines = checkLines(s.stderr());
    const line = (check: string) => lines.find((l) => l.msg.includes(` ${check} `));
    expect(line(`imap ${bad.address}`)).toMatchObject({
      level: 'warn',
      msg: expect.stringContaining(`wrong version number: port ${mail.imap.port} speaks plain text, not TLS: set \`mailboxes[0].imap.secure: false\``),
    });
    expect(line(`smtp ${bad.address}`)).toMatchObject({
      level: 'warn',
      msg: expect.stringContaining('authentication failed: check the password variable BROKEN_SMTP_PW and `mailboxes[0].smtp.user`'),
    });
    expect(line(`imap ${good.address}`)).toMatchObject({ level: 'info', msg: `start-up check: imap ${good.address} ok` });
    expect(line(`smtp ${good.address}`)).toMatchObject({ level: 'info', msg: `start-up check: smtp ${good.address} ok` });
    // The session still works after the check: the server neither crashed nor stalled.
    expect((await s.client.listTools()).tools.length).toBe(tools.length);
    for (const secret of [WRONG, bad.password, good.password]) expect(s.stderr()).not.toContain(secret);
  });

  it('MAILGATE_NO_STARTUP_CHECK=1 turns it off', async () => {
    const s = await startServer({
      role: 'agent',
      db: tmp.file('off.db'),
      home: tmp.path,
      config,
      env: { BROKEN_SMTP_PW: WRONG, MAILGATE_NO_STARTUP_CHECK: '1' },
    });
    expect((await s.client.listTools()).tools.length).toBeGreaterThan(0);
    // The check's first lines arrive well within this window when it is on (a second after the handshake, then
    // the probes: the test above); nothing marks "never".
    await holdsFor(() => checkLines(s.stderr()).length === 0, 4000, 'no start-up check lines');
  });
});
