/**
 * The unset-password message says the fix that works where mailgate was started (issue 12): launched by an MCP
 * client (stdin not a terminal), add the variable to the `env` block of the client's server entry; at a terminal
 * (a pseudo-terminal from util-linux `script`), export it. Seen through `mailgate doctor`, which reports the same
 * config problems loadConfig gives `serve`.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, childEnv, CLI, ROOT, runCli, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-setup-message-');
const OTHER_SECRET = 'Other-Account-Pw-2718';
let config = '';

const side = (auth: Record<string, string>) => ({ host: '127.0.0.1', port: 1143, secure: false, user: 'u', ...auth });

beforeAll(() => {
  assertBuilt();
  config = writeConfig(tmp.file('config.json'), {
    mailboxes: [
      { address: 'ok@example.com', oversight_mode: 'gated_send', imap: side({ password: OTHER_SECRET }), smtp: side({ password: OTHER_SECRET }) },
      {
        address: 'support@example.com',
        oversight_mode: 'gated_send',
        imap: side({ password_env: 'SUPPORT_IMAP_PW' }),
        smtp: side({ access_token_env: 'SUPPORT_SMTP_TOKEN' }),
      },
      { address: 'file@example.com', oversight_mode: 'gated_send', imap: side({ password_file: 'secrets/pw.txt' }), smtp: side({ password: 'x' }) },
    ],
  });
});
afterAll(() => tmp.cleanup());

/** `mailgate ARGS` under a pseudo-terminal: stdin, stdout and stderr are the terminal; `script` copies it out. */
function onTerminal(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, CLI, ...args].join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: childEnv(tmp.path), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out.replace(/\r\n/g, '\n'));
    });
  });
}

describe('an unset password variable', () => {
  it('launched by a client (stdin a pipe): add it to the env block of the client config', async () => {
    const r = await runCli(['doctor', '--config', config, '--db', tmp.file('none.db')], { home: tmp.path });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('mailboxes[1] (support@example.com).imap.password_env: environment variable SUPPORT_IMAP_PW is not set.');
    expect(r.stdout).toContain('add "env": { "SUPPORT_IMAP_PW": "..." } to mailgate\'s entry in the client\'s config');
    expect(r.stdout).toContain('claude_desktop_config.json');
    expect(r.stdout).toContain('"env": { "SUPPORT_SMTP_TOKEN": "..." }');
    expect(r.stdout).not.toContain('export it');
    // A client starts mailgate in a working directory of its own: a relative password_file is a trap there.
    expect(r.stdout).toMatch(/password_file: cannot read secrets\/pw\.txt \(ENOENT\); check the path and permissions; .* give an absolute path/);
    expect(r.stdout + r.stderr).not.toContain(OTHER_SECRET);
  });

  it('at a terminal: export it', async () => {
    const out = await onTerminal(['doctor', '--config', config, '--db', tmp.file('none.db')]);
    expect(out).toContain('environment variable SUPPORT_IMAP_PW is not set; export it before starting mailgate');
    expect(out).toContain('environment variable SUPPORT_SMTP_TOKEN is not set; export an OAuth2 access token in it before starting mailgate');
    expect(out).not.toContain('"env"');
    expect(out).toContain('cannot read secrets/pw.txt (ENOENT); check the path and permissions');
    expect(out).not.toContain('absolute path');
    expect(out).not.toContain(OTHER_SECRET);
  });
});
