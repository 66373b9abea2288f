/**
 * Real mail accounts: the config's imap/smtp settings with their secrets resolved. Secrets live only in
 * these objects, in memory; the logger redacts the keys they sit under, and nothing here is ever written
 * to the database, the audit log or a tool result.
 */
import { readFileSync } from 'node:fs';
import type { ImapSettings, MailboxConfig, SmtpSettings } from './schema.js';

type Credentials = { user: string; pass: string } | { user: string; accessToken: string };

export interface ServerAccount {
  host: string;
  port: number;
  /** TLS from the first byte. */
  secure: boolean;
  /** Require STARTTLS on a plain connection (never silently fall back to plaintext). */
  requireStartTls: boolean;
  auth: Credentials;
  rejectUnauthorized: boolean;
  ca: Buffer | undefined;
}

export interface MailAccount {
  address: string;
  displayName: string | null;
  imap: ServerAccount & { saveSent: boolean; heartbeatMs: number };
  smtp: ServerAccount & { timeoutMs: number };
}

/** Resolves one mailbox's account, or returns the problems, each naming the key and the fix. */
export function resolveAccount(mb: MailboxConfig, where: string, env: NodeJS.ProcessEnv): { account?: MailAccount; problems: string[] } {
  const problems: string[] = [];
  if (!mb.imap || !mb.smtp) {
    problems.push(`${where}: give both imap and smtp for a real mailbox, or neither for a sandbox mailbox`);
    return { problems };
  }
  const imap = resolveServer(mb.imap, `${where}.imap`, 993, env, problems);
  const smtp = resolveServer(mb.smtp, `${where}.smtp`, 587, env, problems);
  if (!imap || !smtp) return { problems };
  return {
    problems,
    account: {
      address: mb.address,
      displayName: mb.display_name ?? null,
      imap: { ...imap, saveSent: mb.imap.save_sent, heartbeatMs: mb.imap.heartbeat_seconds * 1000 },
      smtp: { ...smtp, timeoutMs: mb.smtp.timeout_seconds * 1000 },
    },
  };
}

function resolveServer(
  s: ImapSettings | SmtpSettings,
  where: string,
  defaultPort: number,
  env: NodeJS.ProcessEnv,
  problems: string[],
): ServerAccount | undefined {
  const port = s.port ?? defaultPort;
  const secure = s.secure ?? (port === 993 || port === 465);
  let auth: Credentials | undefined;
  if (s.password !== undefined) auth = { user: s.user, pass: s.password };
  else if (s.password_env !== undefined) {
    const v = env[s.password_env];
    if (!v) problems.push(`${where}.password_env: environment variable ${s.password_env} is not set; export it before starting mailgate`);
    else auth = { user: s.user, pass: v };
  } else if (s.password_file !== undefined) {
    try {
      auth = { user: s.user, pass: readFileSync(s.password_file, 'utf8').replace(/\r?\n$/, '') };
    } catch (err) {
      problems.push(
        `${where}.password_file: cannot read ${s.password_file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path and permissions`,
      );
    }
  } else if (s.access_token_env !== undefined) {
    const v = env[s.access_token_env];
    if (!v) problems.push(`${where}.access_token_env: environment variable ${s.access_token_env} is not set; export an OAuth2 access token in it`);
    else auth = { user: s.user, accessToken: v };
  }
  let ca: Buffer | undefined;
  if (s.tls?.ca_file) {
    try {
      ca = readFileSync(s.tls.ca_file);
    } catch (err) {
      problems.push(`${where}.tls.ca_file: cannot read ${s.tls.ca_file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if (!auth) return undefined;
  return {
    host: s.host,
    port,
    secure,
    requireStartTls: !secure && (s.starttls ?? false),
    auth,
    rejectUnauthorized: s.tls?.reject_unauthorized ?? true,
    ca,
  };
}
