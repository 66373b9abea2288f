/**
 * One-off connection checks for `mailgate doctor`: connect, TLS and login to an account's IMAP and SMTP
 * servers, then what the IMAP server offers. Unlike ImapConnection and SmtpSender they keep nothing open, do
 * not back off, and return values (never throw), each failure with the fix from connection-hints.ts.
 */
import { connect as tlsConnect } from 'node:tls';
import type { ServerAccount } from '../config/accounts.js';
import { connectionHint, EXPECTS_TLS, type HintContext } from './connection-hints.js';
import { imapAuth, smtpAuth } from './oauth2/auth.js';
import { loadSmtpConnection } from './smtp.js';

export type ProbeResult =
  | { ok: true; tls: 'implicit' | 'starttls' | 'none'; features?: ImapFeatures }
  | { ok: false; problem: string; fix: string | undefined };

/** What the IMAP server offers beyond login: the folders mailgate looks for, and the extensions it uses. */
interface ImapFeatures {
  /** RFC 6154 special-use flags found, e.g. ["\\Sent", "\\Drafts"]. */
  specialUse: string[];
  /** RFC 2177: new mail is pushed instead of polled. */
  idle: boolean;
  /** RFC 7162: flag changes are fetched incrementally. */
  condstore: boolean;
}

const tlsOptions = (a: ServerAccount) => ({ rejectUnauthorized: a.rejectUnauthorized, ...(a.ca ? { ca: a.ca } : {}) });

export async function probeImap(a: ServerAccount, hint: HintContext, timeoutMs: number): Promise<ProbeResult> {
  let auth: Awaited<ReturnType<typeof imapAuth>>;
  try {
    auth = await imapAuth(a.auth); // an OAuth2 refresh can fail before any connection (a revoked refresh token)
  } catch (err) {
    return failure(err, hint);
  }
  // Loaded here, not at start-up: imapflow is slow to load (0.2-0.5 s measured here) and only doctor probes.
  const { ImapFlow } = await import('imapflow');
  const client = new ImapFlow({
    host: a.host,
    port: a.port,
    secure: a.secure,
    doSTARTTLS: a.requireStartTls ? true : undefined,
    auth,
    tls: tlsOptions(a),
    logger: false,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    clientInfo: { name: 'mailgate-doctor' },
  });
  // imapflow also emits the failure as an event; without a listener it would be thrown as uncaught.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.close();
    return failure(await markTls(err, a, timeoutMs), hint);
  }
  try {
    const caps = client.capabilities;
    const specialUse = (await client.list()).map((f) => f.specialUse).filter((s): s is string => typeof s === 'string');
    const tls = a.secure ? 'implicit' : client.secureConnection ? 'starttls' : 'none';
    return { ok: true, tls, features: { specialUse: [...new Set(specialUse)].sort(), idle: caps.has('IDLE'), condstore: caps.has('CONDSTORE') } };
  } catch (err) {
    return failure(err, hint);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export async function probeSmtp(a: ServerAccount, hint: HintContext, timeoutMs: number): Promise<ProbeResult> {
  const SMTPConnection = await loadSmtpConnection();
  const conn = new SMTPConnection({
    host: a.host,
    port: a.port,
    secure: a.secure,
    requireTLS: a.requireStartTls,
    tls: tlsOptions(a),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 2,
    logger: false,
  });
  const auth = smtpAuth(a.auth);
  const outcome = await new Promise<unknown>((resolve) => {
    // Socket failures arrive as events, not through the callbacks; the first report wins.
    let settled = false;
    const done = (err: unknown) => {
      if (settled) return;
      settled = true;
      resolve(err);
    };
    conn.on('error', done);
    conn.on('end', () => done(Object.assign(new Error('connection closed by the server'), { code: 'ECONNECTION' })));
    conn.connect((err) => {
      if (err) return done(err);
      conn.login(auth, (loginErr) => done(loginErr ?? null));
    });
  });
  const secured = conn.secure;
  if (outcome === null) {
    conn.quit();
    return { ok: true, tls: a.secure ? 'implicit' : secured ? 'starttls' : 'none' };
  }
  conn.close();
  return failure(await markTls(outcome, a, timeoutMs), hint);
}

/**
 * A plain-text client on an implicit-TLS port waits for a greeting the server never sends (the server waits
 * for a TLS handshake): all the client sees is a timeout. A TLS handshake on the same port tells the two apart.
 */
async function markTls(err: unknown, a: ServerAccount, timeoutMs: number): Promise<unknown> {
  const e = err as { code?: string; message?: string };
  const timedOut = /TIMEOUT|ETIMEDOUT/.test(e?.code ?? '') || /timeout|timed out|never received/i.test(e?.message ?? '');
  if (a.secure || !timedOut) return err;
  const speaksTls = await new Promise<boolean>((resolve) => {
    const s = tlsConnect({ host: a.host, port: a.port, rejectUnauthorized: false, servername: a.host.match(/^[\d.:]+$/) ? undefined : a.host });
    const end = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => end(false));
    s.once('secureConnect', () => end(true));
    s.once('error', () => end(false));
  });
  return speaksTls ? Object.assign(new Error(`${e.message ?? 'timed out'} (the port answers TLS)`), { code: EXPECTS_TLS }) : err;
}

function failure(err: unknown, hint: HintContext): ProbeResult {
  const e = err as { message?: string; response?: string; code?: string };
  // One line per check: OpenSSL's messages end in a line break.
  const message = (e?.message ?? String(err)).replace(/\s+/g, ' ').trim();
  const problem = e?.response && !message.includes(e.response) ? `${message}: ${e.response}` : message;
  return { ok: false, problem: e?.code && !problem.includes(e.code) ? `${e.code}: ${problem}` : problem, fix: connectionHint(err, hint) };
}
