/**
 * Helpers for the end-to-end tests against the private Dovecot + Postfix (test/helpers/mail-servers.ts):
 * `mailgate serve` spawned with a config of real IMAP/SMTP mailboxes and short delivery polling, direct
 * IMAP access as a user (what the recipient's own mail client would see), and read-only looks into the
 * database the servers share.
 */
import Database from 'better-sqlite3';
import { ImapFlow } from 'imapflow';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { MailServers, MailUser } from '../helpers/mail-servers.js';
import { closeAll, type ServerHandle, startServer, waitFor, writeConfig } from './harness.js';

/** Delivery polling every 200 ms instead of 1 s, so approvals made in another process go out at once. */
const REAL_ENV = { MAILGATE_DELIVERY_POLL_MS: '200', MAILGATE_LOG_LEVEL: 'warn' };

/** A server on the real-mail config; mail_wait may block for its whole timeout, so requests get room beyond it. */
export function startRealServer(o: { role: 'agent' | 'reviewer'; db: string; home: string; config: string }): Promise<ServerHandle> {
  return startServer({ ...o, clientName: `e2e-real-${o.role}`, env: REAL_ENV, requestTimeoutMs: 120_000 });
}

export const closeAllReal = closeAll;

export interface RealMailbox {
  user: MailUser;
  mode: 'gated_send' | 'autonomous' | 'gated_all' | 'read_only' | 'monitored';
  /** IMAP port to use instead of Dovecot's (a fault-injection proxy). */
  imapPort?: number;
  heartbeatSeconds?: number;
}

/** Writes a config file with one real IMAP/SMTP mailbox per entry; returns its path. */
export function writeRealConfig(path: string, mail: MailServers, boxes: RealMailbox[]): string {
  return writeConfig(path, {
    mailboxes: boxes.map((b) => ({
      address: b.user.address,
      oversight_mode: b.mode,
      imap: {
        host: '127.0.0.1',
        port: b.imapPort ?? mail.imap.port,
        secure: false,
        user: b.user.user,
        password: b.user.password,
        heartbeat_seconds: b.heartbeatSeconds ?? 2,
      },
      smtp: { host: '127.0.0.1', port: mail.smtp.port, secure: false, user: b.user.user, password: b.user.password, timeout_seconds: 10 },
    })),
  });
}

export async function imapAs(mail: MailServers, u: MailUser): Promise<ImapFlow> {
  const c = new ImapFlow({ host: mail.imap.host, port: mail.imap.port, secure: false, auth: { user: u.user, pass: u.password }, logger: false });
  await c.connect();
  return c;
}

export interface ServerCopy {
  uid: number;
  messageId: string | undefined;
  subject: string | undefined;
  flags: string[];
  source: string;
}

/** Every message of a folder as the user's own client sees it on the server, raw source included. */
export async function serverFolder(client: ImapFlow, folder: string): Promise<ServerCopy[]> {
  const lock = await client.getMailboxLock(folder, { readOnly: true });
  try {
    // The folder may have been selected for a while: NOOP makes the server report what arrived since.
    await client.noop();
    const out: ServerCopy[] = [];
    // biome-ignore lint/complexity/useOptionalChain: client.mailbox is false | MailboxObject, and ?. does not narrow false
    if ((client.mailbox && client.mailbox.exists) === 0) return out;
    for await (const m of client.fetch('1:*', { uid: true, envelope: true, flags: true, source: true }, { uid: true })) {
      out.push({
        uid: m.uid,
        messageId: m.envelope?.messageId,
        subject: m.envelope?.subject,
        flags: [...(m.flags ?? [])],
        source: m.source?.toString('utf8') ?? '',
      });
    }
    return out;
  } finally {
    lock.release();
  }
}

/** A header's unfolded value from raw message source (first occurrence), or undefined. */
export function header(source: string, name: string): string | undefined {
  const head = source.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(head);
  return m?.[1]?.trim();
}

/** Submission through Postfix as `u`, as an ordinary mail client would send it; resolves on the 250 reply. */
export async function submitAs(mail: MailServers, u: MailUser, msg: SendMailOptions): Promise<{ messageId: string; acceptedAt: number }> {
  const t = nodemailer.createTransport({
    host: mail.smtp.host,
    port: mail.smtp.port,
    secure: false,
    ignoreTLS: true,
    auth: { user: u.user, pass: u.password },
  });
  try {
    const info = await t.sendMail({ from: u.address, ...msg });
    return { messageId: info.messageId, acceptedAt: Date.now() };
  } finally {
    t.close();
  }
}

/** A read-only query against the servers' database (WAL: readers never block the writers). */
export function dbAll<T = Record<string, unknown>>(dbPath: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/** The RFC 5322 Message-ID mailgate generated for an outbound message. */
export function messageIdHeaderOf(dbPath: string, messageId: string): string {
  const row = dbAll<{ message_id_header: string }>(dbPath, 'SELECT message_id_header FROM messages WHERE message_id = ?', messageId)[0];
  if (!row) throw new Error(`no message ${messageId} in ${dbPath}`);
  return row.message_id_header;
}

/** Polls `fn` until it returns a value (not undefined); returns it. */
export async function eventually<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  let value: T | undefined;
  await waitFor(async () => (value = await fn()) !== undefined, timeoutMs, what);
  return value!;
}
