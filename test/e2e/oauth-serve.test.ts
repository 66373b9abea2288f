/**
 * A mailbox configured with only an OAuth2 refresh token, served by `mailgate serve` to a real MCP SDK client:
 * it reads its INBOX and sends, keeps working when the provider revokes its access token mid-session, and pauses
 * its deliveries with the catalogued fix when the refresh token itself is refused. The server logs at debug
 * level, and no token or secret may appear there, in a tool result, in the database or in the audit chain.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { type OAuth2IssuerHandle, startOAuth2Issuer } from '../helpers/oauth2-server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { assertBuilt, closeAll, ok, type ServerHandle, startServer, textOf, waitFor, writeConfig } from './harness.js';
import { dbAll, eventually, imapAs, serverFolder } from './real-harness.js';

const SECRET = `serve-secret-${process.pid}`;

describe.skipIf(!requireMailServersOrSkip())('mailgate serve with an OAuth2 mailbox', () => {
  let idp: OAuth2IssuerHandle;
  let mail: MailServers;
  let home: string;
  let db: string;
  let olive: MailUser;
  let bob: MailUser;
  let bobImap: ImapFlow;
  let agent: ServerHandle;
  // Revoking a token does not end a session that already logged in (at a real provider either): the tests cut
  // the connections so that the next operation must log in again.
  let imapProxy: TcpProxy;
  let smtpProxy: TcpProxy;
  const results: string[] = [];
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = await agent.call(name, args);
    results.push(textOf(r));
    return r;
  };

  beforeAll(async () => {
    assertBuilt();
    idp = await startOAuth2Issuer({ clientSecret: SECRET });
    mail = await startMailServers({ users: ['bob'], dovecotAuth: idp.dovecotAuth() });
    [bob] = mail.users as [MailUser];
    olive = await mail.addUser('olive');
    home = mkdtempSync('/tmp/mg-oauth-serve-');
    imapProxy = await startTcpProxy({ port: mail.imap.port });
    smtpProxy = await startTcpProxy({ port: mail.smtp.port });
    db = join(home, 'mailgate.db');
    const tokenFile = join(home, 'olive.token');
    writeFileSync(tokenFile, `${await idp.grant(olive.address)}\n`, { mode: 0o600 });
    const oauth2 = { provider: 'custom', client_id: idp.clientId, client_secret_env: 'MG_SECRET', refresh_token_file: tokenFile, token_url: idp.tokenUrl };
    const config = writeConfig(join(home, 'config.json'), {
      mailboxes: [
        {
          address: olive.address,
          oversight_mode: 'autonomous',
          imap: { host: '127.0.0.1', port: imapProxy.port, secure: false, user: olive.user, oauth2, heartbeat_seconds: 2 },
          smtp: { host: '127.0.0.1', port: smtpProxy.port, secure: false, user: olive.user, oauth2, timeout_seconds: 10 },
        },
      ],
    });
    agent = await startServer({
      role: 'agent',
      db,
      home,
      config,
      env: { MAILGATE_DELIVERY_POLL_MS: '200', MAILGATE_LOG_LEVEL: 'debug', MAILGATE_LOG_FORMAT: 'json', MG_SECRET: SECRET },
      requestTimeoutMs: 60_000,
    });
    bobImap = await imapAs(mail, bob);
  }, 60_000);

  afterAll(async () => {
    await bobImap?.logout().catch(() => undefined);
    await closeAll();
    await imapProxy?.close();
    await smtpProxy?.close();
    await mail?.stop();
    await idp?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  const inbox = async () => ok<{ emails: { subject: string }[] }>(await call('check_inbox', { mailbox: olive.address })).emails.map((e) => e.subject);
  async function sendToBob(subject: string): Promise<string> {
    const r = ok<{ message_id: string }>(await call('send_email', { mailbox: olive.address, to: [bob.address], subject, text: 'hello from olive' }));
    return r.message_id;
  }
  const status = (id: string) =>
    dbAll<{ status: string; last_error: string | null }>(db, 'SELECT status, last_error FROM messages WHERE message_id = ?', id)[0];
  const atBob = async (subject: string) => (await serverFolder(bobImap, 'INBOX')).some((m) => m.subject === subject);

  it('reads the INBOX and sends, refreshing when the provider revokes the access token mid-session', async () => {
    await mail.deliver(`From: a@example.org\r\nTo: ${olive.address}\r\nSubject: for olive\r\nMessage-ID: <o1@example.org>\r\n\r\nhi\r\n`, olive.address);
    await eventually(async () => ((await inbox()).includes('for olive') ? true : undefined), 15_000, "olive's INBOX through check_inbox");

    const first = await sendToBob('first over xoauth2');
    await waitFor(() => status(first)?.status === 'sent', 15_000, `first send sent (${JSON.stringify(status(first))})`);
    const refreshes = idp.requests.refresh_token;

    // The provider revokes every access token it issued, and the sessions end: the next IMAP and SMTP logins
    // offer a token mailgate still counts valid for an hour, are refused, refresh, and succeed.
    idp.revokeAccessTokens();
    imapProxy.reset();
    smtpProxy.reset();
    await mail.deliver(`From: a@example.org\r\nTo: ${olive.address}\r\nSubject: after revocation\r\nMessage-ID: <o2@example.org>\r\n\r\nhi\r\n`, olive.address);
    await eventually(async () => ((await inbox()).includes('after revocation') ? true : undefined), 15_000, 'the new mail after a fresh IMAP login');
    const second = await sendToBob('second after revocation');
    await waitFor(() => status(second)?.status === 'sent', 15_000, `second send sent (${JSON.stringify(status(second))})`);
    expect(idp.requests.refresh_token).toBeGreaterThan(refreshes);
    await waitFor(() => atBob('first over xoauth2'), 10_000, 'first mail at bob');
    await waitFor(() => atBob('second after revocation'), 10_000, 'second mail at bob');
  }, 60_000);

  it('pauses deliveries with OAUTH_LOGIN_REQUIRED wording when the refresh token is refused', async () => {
    idp.revokeRefreshTokens();
    idp.revokeAccessTokens();
    smtpProxy.reset();
    const id = await sendToBob('never leaves');
    await waitFor(
      () => (status(id)?.last_error ?? '').includes('mailgate oauth login'),
      15_000,
      `the refused refresh on the message (${JSON.stringify(status(id))})`,
    );
    const [mb] = dbAll<{ delivery_paused_reason: string | null }>(db, 'SELECT delivery_paused_reason FROM mailboxes WHERE address = ?', olive.address);
    expect(mb?.delivery_paused_reason).toContain('mailgate oauth login');
    expect(await atBob('never leaves')).toBe(false);
  }, 30_000);

  it('never shows a token or the client secret in logs, tool results, the database or the audit chain', async () => {
    expect(agent.stderr()).toMatch(/oauth2 access token refreshed/);
    const tables = ['messages', 'mailboxes', 'audit_events'].map((t) => JSON.stringify(dbAll(db, `SELECT * FROM ${t}`))).join('\n');
    const everything = [agent.stderr(), results.join('\n'), tables].join('\n');
    expect(idp.issued.length).toBeGreaterThan(4);
    for (const t of [...idp.issued, SECRET]) expect(everything).not.toContain(t);
  });
});
