/**
 * OAuth2 that stays signed in, against a real issuer (oauth2-mock-server) and a private Dovecot that checks
 * every token there by introspection: IMAP logs in with OAUTHBEARER (imapflow), SMTP with XOAUTH2 through
 * Postfix and Dovecot SASL (nodemailer). The account comes from a config entry with a refresh token file, as
 * a person would write it after `mailgate oauth login`. No password is configured anywhere.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailAccount, resolveAccount } from '../../src/config/accounts.js';
import { MailboxConfig } from '../../src/config/schema.js';
import { MailgateError } from '../../src/errors.js';
import { ImapMailbox } from '../../src/mail/imap/mailbox.js';
import { SmtpSender } from '../../src/mail/smtp.js';
import type { OutboundMessage } from '../../src/store/store.js';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { type OAuth2IssuerHandle, startOAuth2Issuer } from '../helpers/oauth2-server.js';

const SECRET = `client-secret-${process.pid}-x9`;
const hooks = { beforeMailFrom: async () => undefined, beforeFinalDot: async () => undefined };

function outbound(from: string, to: string, subject: string): OutboundMessage {
  return {
    message_id: `msg_${Date.now()}`,
    mailbox: from,
    kind: 'send',
    from_addr: from,
    to: [to],
    cc: [],
    bcc: [],
    subject,
    text: 'sent with an OAuth2 token',
    html: null,
    message_id_header: `<${Date.now()}.${Math.random().toString(36).slice(2)}@mailgate.test>`,
    in_reply_to_header: null,
    references_header: null,
  } as unknown as OutboundMessage;
}

describe.skipIf(!requireMailServersOrSkip())('OAuth2 refresh tokens against Dovecot and Postfix', () => {
  let idp: OAuth2IssuerHandle;
  let mail: MailServers;
  let dir: string;
  const open: { close(): unknown }[] = [];

  beforeAll(async () => {
    idp = await startOAuth2Issuer({ clientSecret: SECRET });
    mail = await startMailServers({ users: ['rcpt'], dovecotAuth: idp.dovecotAuth() });
    dir = mkdtempSync('/tmp/mg-oauth2-test-');
  });
  afterAll(async () => {
    for (const o of open) await o.close();
    await mail?.stop();
    await idp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A fresh user whose config entry has only the oauth2 block (refresh token in a file, secret in the environment). */
  async function oauthUser(name: string): Promise<{ u: MailUser; account: MailAccount; file: string; first: string }> {
    const u = await mail.addUser(name);
    const first = await idp.grant(u.address);
    const file = join(dir, `${name}.token`);
    writeFileSync(file, `${first}\n`, { mode: 0o600 });
    const oauth2 = { provider: 'custom', client_id: idp.clientId, client_secret_env: 'MG_OAUTH_SECRET', refresh_token_file: file, token_url: idp.tokenUrl };
    const entry = MailboxConfig.parse({
      address: u.address,
      imap: { host: '127.0.0.1', port: mail.imap.port, secure: false, user: u.user, oauth2 },
      smtp: { host: '127.0.0.1', port: mail.smtp.port, secure: false, user: u.user, oauth2, timeout_seconds: 10 },
    });
    const r = resolveAccount(entry, 'mailboxes[0]', { MG_OAUTH_SECRET: SECRET });
    expect(r.problems).toEqual([]);
    return { u, account: r.account!, file, first };
  }

  function box(account: MailAccount): ImapMailbox {
    const b = new ImapMailbox(account);
    open.push(b);
    return b;
  }

  const subjects = async (b: ImapMailbox) => (await b.sync('INBOX', undefined)).envelopes.map((e) => e.subject);

  async function sendAndSee(account: MailAccount, subject: string): Promise<void> {
    const sender = new SmtpSender(account.smtp, null);
    open.push(sender);
    const receipt = await sender.send(outbound(account.address, mail.users[0]!.address, subject), hooks);
    expect(receipt.accepted).toEqual([mail.users[0]!.address]);
  }

  /** No token the issuer handed out, and not the client secret, may appear in what a caller or person sees. */
  function expectNoSecrets(text: string): void {
    for (const t of [...idp.issued, SECRET]) expect(text).not.toContain(t);
  }

  it('reads the INBOX over IMAP (OAUTHBEARER) and sends over SMTP (XOAUTH2) with one shared refresh', async () => {
    const { u, account } = await oauthUser('reader');
    await mail.deliver(`From: a@example.org\r\nTo: ${u.address}\r\nSubject: hello oauth\r\nMessage-ID: <h1@example.org>\r\n\r\nhi\r\n`, u.address);
    const before = idp.requests.refresh_token;
    expect(await subjects(box(account))).toEqual(['hello oauth']);
    await sendAndSee(account, 'sent over xoauth2');
    // IMAP and SMTP share one token source: one refresh served both logins.
    expect(idp.requests.refresh_token - before).toBe(1);
    expect(idp.requests.introspect).toBeGreaterThanOrEqual(2);
    expect(mail.logs()).toMatch(/oauth2/i);
  });

  it('refreshes a token the provider revoked mid-session, once, and the next IMAP and SMTP logins succeed', async () => {
    const { u, account, file, first } = await oauthUser('revoked');
    await mail.deliver(`From: a@example.org\r\nTo: ${u.address}\r\nSubject: one\r\nMessage-ID: <r1@example.org>\r\n\r\nhi\r\n`, u.address);
    const first1 = box(account);
    expect(await subjects(first1)).toEqual(['one']);
    const base = idp.requests.refresh_token;
    // Revoked at the provider while mailgate's clock still counts it valid for an hour.
    idp.revokeAccessTokens();
    await first1.close();
    expect(await subjects(box(account))).toEqual(['one']);
    expect(idp.requests.refresh_token - base).toBe(1);
    idp.revokeAccessTokens();
    await sendAndSee(account, 'after revocation');
    expect(idp.requests.refresh_token - base).toBe(2);
    // Every refresh rotated the refresh token; the file holds the newest (0600), the first is spent.
    const saved = readFileSync(file, 'utf8').trim();
    expect(saved).not.toBe(first);
    expect(idp.issued).toContain(saved);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // A restart reads the file and keeps working.
    const restarted = resolveAccount(
      MailboxConfig.parse({
        address: u.address,
        imap: { host: '127.0.0.1', port: mail.imap.port, secure: false, user: u.user, oauth2: oauth2Of(account, file) },
        smtp: { host: '127.0.0.1', port: mail.smtp.port, secure: false, user: u.user, oauth2: oauth2Of(account, file) },
      }),
      'mailboxes[0]',
      { MG_OAUTH_SECRET: SECRET },
    );
    expect(await subjects(box(restarted.account!))).toEqual(['one']);
  });

  function oauth2Of(_a: MailAccount, file: string) {
    return { provider: 'custom', client_id: idp.clientId, client_secret_env: 'MG_OAUTH_SECRET', refresh_token_file: file, token_url: idp.tokenUrl };
  }

  it('refreshes ahead of a short expires_in, so a token that ran out mid-session is never offered', async () => {
    idp.setAccessTtl(2);
    try {
      const { u, account } = await oauthUser('short');
      await mail.deliver(`From: a@example.org\r\nTo: ${u.address}\r\nSubject: short\r\nMessage-ID: <s1@example.org>\r\n\r\nhi\r\n`, u.address);
      const base = idp.requests.refresh_token;
      const b1 = box(account);
      expect(await subjects(b1)).toEqual(['short']);
      await b1.close();
      // Let the first token run out at the issuer, so that offering it again would be refused.
      for (const deadline = Date.now() + 10_000; idp.activeAccessTokens(u.address) > 0; await new Promise((r) => setTimeout(r, 50))) {
        if (Date.now() > deadline) throw new Error('the 2 s token never expired at the issuer');
      }
      // Under five minutes left: every new login refreshes first rather than offer a dying token.
      expect(await subjects(box(account))).toEqual(['short']);
      await sendAndSee(account, 'short-lived');
      expect(idp.requests.refresh_token - base).toBe(3);
    } finally {
      idp.setAccessTtl(3600);
    }
  });

  it('a refused refresh token is OAUTH_LOGIN_REQUIRED, naming `mailgate oauth login`, on IMAP and SMTP alike', async () => {
    const { account } = await oauthUser('refused');
    idp.revokeRefreshTokens();
    const err = await box(account)
      .sync('INBOX', undefined)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(MailgateError);
    expect((err as MailgateError).code).toBe('OAUTH_LOGIN_REQUIRED');
    expect((err as MailgateError).message).toContain('mailgate oauth login');
    expectNoSecrets(`${(err as Error).message} ${JSON.stringify((err as MailgateError).details)}`);
    const sender = new SmtpSender(account.smtp, null);
    open.push(sender);
    const sendErr = await sender.send(outbound(account.address, mail.users[0]!.address, 'never'), hooks).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(sendErr?.message).toContain('mailgate oauth login');
    expectNoSecrets(`${sendErr?.message} ${JSON.stringify(sendErr)}`);
  });
});
