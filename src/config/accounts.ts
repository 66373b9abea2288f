/**
 * Real mail accounts: the config's imap/smtp settings with their secrets resolved. Secrets live only in
 * these objects, in memory; the logger redacts the keys they sit under, and nothing here is ever written
 * to the database, the audit log or a tool result.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { resolveOAuth2 } from '../mail/oauth2/settings.js';
import type { OAuth2TokenSource } from '../mail/oauth2/token-source.js';
import type { ImapSettings, MailboxConfig, SmtpSettings } from './schema.js';

type Credentials = { user: string; pass: string } | { user: string; accessToken: string } | { user: string; tokens: OAuth2TokenSource };

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
  const imap = resolveServer(mb.imap, `${where}.imap`, 993, env, problems, mb.address);
  // The same oauth2 block for both protocols is one token source, so a rotated refresh token serves both.
  const shared = imap && 'tokens' in imap.auth && JSON.stringify(mb.imap.oauth2) === JSON.stringify(mb.smtp.oauth2) ? imap.auth.tokens : undefined;
  const smtp = resolveServer(mb.smtp, `${where}.smtp`, 587, env, problems, mb.address, shared);
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
  label: string,
  shared?: OAuth2TokenSource,
): ServerAccount | undefined {
  const port = s.port ?? defaultPort;
  const secure = s.secure ?? (port === 993 || port === 465);
  let auth: Credentials | undefined;
  if (s.password !== undefined) auth = { user: s.user, pass: s.password };
  else if (s.password_env !== undefined) {
    const v = env[s.password_env];
    if (!v) problems.push(unsetVariable(`${where}.password_env`, s.password_env, 'it'));
    else auth = { user: s.user, pass: v };
  } else if (s.password_file !== undefined) {
    try {
      auth = { user: s.user, pass: readFileSync(s.password_file, 'utf8').replace(/\r?\n$/, '') };
    } catch (err) {
      problems.push(
        `${where}.password_file: cannot read ${s.password_file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path and permissions${
          launchedByClient() && !isAbsolute(s.password_file) ? '; an MCP client starts mailgate in a directory of its own, so give an absolute path' : ''
        }`,
      );
    }
  } else if (s.access_token_env !== undefined) {
    const v = env[s.access_token_env];
    if (!v) problems.push(unsetVariable(`${where}.access_token_env`, s.access_token_env, 'an OAuth2 access token in it'));
    else auth = { user: s.user, accessToken: v };
  } else if (s.oauth2 !== undefined) {
    const tokens = shared ?? resolveOAuth2(s.oauth2, label, where, env, problems);
    if (tokens) auth = { user: s.user, tokens };
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

/**
 * stdin that is not a terminal means an MCP client (Claude Desktop, Cursor, VS Code) launched mailgate: it passes
 * only the variables of its server entry's `env` block, so "export it" in a shell would not help (issue 12).
 */
const launchedByClient = () => process.stdin.isTTY !== true;

/** The problem for an unset secret variable, with the fix that works where mailgate was started from. */
function unsetVariable(key: string, name: string, what: string): string {
  if (!launchedByClient()) return `${key}: environment variable ${name} is not set; export ${what} before starting mailgate`;
  return (
    `${key}: environment variable ${name} is not set. An MCP client starts mailgate with only the variables in the "env" block of ` +
    `its server entry, not those of your shell: add "env": { "${name}": "..." } to mailgate's entry in the client's config ` +
    '(claude_desktop_config.json, .cursor/mcp.json or .vscode/mcp.json), then restart the client'
  );
}
