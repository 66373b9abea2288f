/**
 * Turns an account's credentials into what imapflow and nodemailer's SMTPConnection take, for a password,
 * a fixed access token, or a token source that refreshes itself. The adapters call these instead of
 * reading the credentials, so a refreshed or rotated token reaches both protocols.
 */
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { ServerAccount } from '../../config/accounts.js';
import { MailgateError } from '../../errors.js';

type Credentials = ServerAccount['auth'];
export type ImapAuth = { user: string; pass: string } | { user: string; accessToken: string };

/** imapflow's `auth`: with a token source, a token good for at least five more minutes. */
export async function imapAuth(auth: Credentials): Promise<ImapAuth> {
  if ('tokens' in auth) return { user: auth.user, accessToken: await auth.tokens.accessToken() };
  if ('accessToken' in auth) return { user: auth.user, accessToken: auth.accessToken };
  return { user: auth.user, pass: auth.pass };
}

/**
 * After the IMAP server refused `used` (imapflow's authenticationFailed): the credentials to try once more,
 * or undefined when trying again cannot help (a password, a fixed token). The token may have been revoked or
 * cut short at the provider while our clock still counts it valid.
 */
export async function imapAuthAfterRefusal(auth: Credentials, used: ImapAuth, err: unknown): Promise<ImapAuth | undefined> {
  if (!('tokens' in auth) || !(err as { authenticationFailed?: boolean })?.authenticationFailed) return undefined;
  return { user: auth.user, accessToken: await auth.tokens.renew('accessToken' in used ? used.accessToken : undefined) };
}

/**
 * SMTPConnection's `auth`. For OAuth2 it calls getToken(false) before AUTH XOAUTH2, and getToken(true) once
 * after the server answers with an error challenge (RFC 7628 §3.2.3), so a refused token is refreshed and
 * tried again once.
 */
export function smtpAuth(auth: Credentials): SMTPConnection.AuthenticationType {
  if ('pass' in auth) return { user: auth.user, pass: auth.pass };
  let last: string | undefined;
  const get = 'tokens' in auth ? (renew: boolean) => (renew ? auth.tokens.renew(last) : auth.tokens.accessToken()) : async () => auth.accessToken;
  const provider = {
    options: { user: auth.user },
    getToken(renew: boolean, cb: (err: Error | null, token?: string) => void) {
      get(renew).then(
        (token) => {
          last = token;
          cb(null, token);
        },
        // A copy, because SMTPConnection rewrites the code of the error it is given (to EAUTH).
        (err: Error) => cb(Object.assign(new Error(err.message), { [TOKEN_FAILURE]: err })),
      );
    },
    buildXOAuth2Token(token: string) {
      return Buffer.from(`user=${auth.user}\x01auth=Bearer ${token}\x01\x01`, 'utf8').toString('base64');
    },
  };
  return { type: 'OAuth2', user: auth.user, oauth2: provider } as unknown as SMTPConnection.AuthenticationType;
}

const TOKEN_FAILURE = Symbol('oauth2 token failure');

/** The token source's own error behind an SMTP login failure (the refresh was refused, or the endpoint is down). */
export function tokenFailureOf(err: unknown): MailgateError | undefined {
  const inner = (err as { [TOKEN_FAILURE]?: unknown } | null)?.[TOKEN_FAILURE];
  return inner instanceof MailgateError ? inner : undefined;
}

/** What identifies the credentials in a settings digest (the caller hashes it with a salt). */
export function credentialsFingerprint(auth: Credentials): string {
  if ('tokens' in auth) return `oauth2:${auth.tokens.fingerprint}`;
  return 'accessToken' in auth ? auth.accessToken : auth.pass;
}
