/**
 * `mailgate init` at a real terminal (a pseudo-terminal): with stdin a TTY and no --yes it asks, and a known
 * provider's preset fills in every server, so an address, a password variable and a few Enters make a config.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt } from './harness.js';
import { fileMode, initInPty, KEY, readJson } from './init-harness.js';

const tmp = tempDir('mailgate-e2e-init-pty-');

describe('mailgate init in a pseudo-terminal', () => {
  afterAll(() => tmp.cleanup());

  it('asks at a TTY, guesses Gmail from the address, and writes its servers with the app-password advice', async () => {
    assertBuilt();
    const config = tmp.file('gmail.json');
    const pty = initInPty({ config, 'no-test': true }, { home: tmp.path });
    await pty.answer('Mailbox address', `Someone@Gmail.com${KEY.enter}`);
    await pty.answer('Provider', KEY.enter); // the guess, Gmail, is already selected
    await pty.answer('User name (login)', KEY.enter);
    await pty.answer('Where does mailgate get the password?', KEY.enter);
    await pty.answer('Environment variable name', `GMAIL_APP_PASSWORD${KEY.enter}`);
    await pty.answer('Oversight mode', KEY.enter);
    await pty.answer('Which MCP client', `${KEY.down}${KEY.enter}`); // Claude Code
    expect(await pty.exit(), pty.screen()).toBe(0);
    expect(pty.screen()).toContain('create an app password in your Google account');
    expect(pty.screen()).toMatch(/claude mcp add mailgate --env MAILGATE_CONFIG=\S+gmail\.json --env GMAIL_APP_PASSWORD=/);
    expect(fileMode(config)).toBe(0o600);
    const side = (host: string, port: number) => ({ host, port, secure: true, user: 'Someone@Gmail.com', password_env: 'GMAIL_APP_PASSWORD' });
    expect(readJson(config).mailboxes).toEqual([
      { address: 'someone@gmail.com', oversight_mode: 'gated_send', imap: side('imap.gmail.com', 993), smtp: side('smtp.gmail.com', 465) },
    ]);
  });

  it('offers OAuth2 for Outlook and writes the oauth2 block, with nothing to test until the refresh token exists', async () => {
    const config = tmp.file('outlook.json');
    const pty = initInPty({ config }, { home: tmp.path });
    await pty.answer('Mailbox address', `ops@contoso.example${KEY.enter}`);
    await pty.answer('Provider', `${KEY.down}${KEY.down}${KEY.enter}`); // an unknown domain: from Other, around to Gmail, then Outlook
    await pty.answer('User name (login)', KEY.enter);
    await pty.answer('Microsoft turned passwords off', '');
    await pty.answer('Where does mailgate get the password?', `${KEY.down}${KEY.down}${KEY.enter}`);
    await pty.answer('OAuth2 client id', `11111111-2222${KEY.enter}`);
    await pty.answer('Variable for the refresh token', KEY.enter);
    await pty.answer('Variable for the client secret', KEY.enter);
    await pty.answer('Oversight mode', KEY.enter);
    await pty.answer('Which MCP client', `${KEY.down}${KEY.down}${KEY.down}${KEY.down}${KEY.enter}`); // show them all
    expect(await pty.exit(), pty.screen()).toBe(0);
    expect(pty.screen()).toContain(
      "Connection test skipped; run 'mailgate doctor' once OPS_REFRESH_TOKEN is set ('mailgate oauth login' gets the refresh token)",
    );
    expect(pty.screen()).toContain('mailgate oauth login --provider microsoft --client-id 11111111-2222 --login-hint ops@contoso.example');
    const oauth2 = { provider: 'microsoft', client_id: '11111111-2222', refresh_token_env: 'OPS_REFRESH_TOKEN' };
    expect(readJson(config).mailboxes[0]).toMatchObject({
      imap: { host: 'outlook.office365.com', oauth2 },
      smtp: { host: 'smtp.office365.com', port: 587, starttls: true, oauth2 },
    });
  });
});
