/**
 * `mailgate doctor`: checks the config, the database and every configured account's IMAP and SMTP, and turns
 * each failure into a one-line fix. It changes nothing: the database is opened read-only (never created or
 * migrated) and the mail servers see a login and a folder list, nothing more.
 */
import type { MailAccount } from '../config/accounts.js';
import type { LoadedConfig } from '../config/load.js';
import type { ImapSettings, SmtpSettings } from '../config/schema.js';
import { MailgateError } from '../errors.js';
import { type ProbeResult, probeImap, probeSmtp } from '../mail/account-probe.js';
import type { HintContext } from '../mail/connection-hints.js';

export interface DoctorCheck {
  /** What was checked, e.g. "config", "database", "imap a@example.com". */
  check: string;
  ok: boolean;
  /** What was found: a summary when it passed, the failure when it did not. */
  detail: string;
  /** The change that fixes a failure, when one is known. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

/** The parts of `mailgate db status` doctor reads (DatabaseStatus in src/domain/db-admin.ts). */
interface DatabaseState {
  location: string;
  schema_version: number;
  code_schema_version: number;
  state: 'up_to_date' | 'needs_migrate' | 'too_new';
}

export interface DoctorDeps {
  /** Loads the config (and --db); throws CONFIG_INVALID listing every problem. */
  load: () => LoadedConfig;
  /** Opens the database read-only and reports its schema; throws STORE_* errors. Creates nothing. */
  databaseStatus: (database: LoadedConfig['database']) => Promise<DatabaseState>;
  /** Per connection step; a dead port costs at most this long (twice, when doctor then tries TLS on it). */
  timeoutMs: number;
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const checks: DoctorCheck[] = [];
  let loaded: LoadedConfig;
  try {
    loaded = deps.load();
  } catch (err) {
    if (!(err instanceof MailgateError) || err.code !== 'CONFIG_INVALID') throw err;
    const problems = (err.details.problems as string[] | undefined) ?? [err.message];
    for (const p of problems) checks.push({ check: 'config', ok: false, detail: p, fix: "correct the config, then run 'mailgate doctor' again" });
    return { ok: false, checks };
  }
  const boxes = loaded.config.mailboxes.length;
  checks.push({ check: 'config', ok: true, detail: `${loaded.source ?? 'built-in sandbox config'}: ${boxes} mailbox${boxes === 1 ? '' : 'es'}` });
  checks.push(await checkDatabase(loaded, deps));
  checks.push(...(await checkAccounts(loaded, deps.timeoutMs)));
  return { ok: checks.every((c) => c.ok), checks };
}

/**
 * Each real account's IMAP and SMTP, side by side (the accounts are independent, so a few dead ports do not add
 * up); the results in config order. Doctor, serve's start-up check and init's connection test all use these.
 */
export function checkAccounts(loaded: LoadedConfig, timeoutMs: number): Promise<DoctorCheck[]> {
  return Promise.all(
    loaded.config.mailboxes.flatMap((mb, i) => {
      const account = loaded.accounts.get(mb.address);
      return account && mb.imap && mb.smtp ? checkAccount(mb.address, i, account, { imap: mb.imap, smtp: mb.smtp }, timeoutMs) : [];
    }),
  );
}

/** One account's IMAP and SMTP probes; `index` is its place in the config, which a hint's key names. */
export function checkAccount(
  address: string,
  index: number,
  account: MailAccount,
  settings: { imap: ImapSettings; smtp: SmtpSettings },
  timeoutMs: number,
): Promise<DoctorCheck>[] {
  const { imap, smtp } = account;
  return [
    probeImap(imap, hintContext('imap', index, imap, settings.imap), timeoutMs).then((r) => toCheck(`imap ${address}`, imap, r)),
    probeSmtp(smtp, hintContext('smtp', index, smtp, settings.smtp), timeoutMs).then((r) => toCheck(`smtp ${address}`, smtp, r)),
  ];
}

async function checkDatabase(loaded: LoadedConfig, deps: DoctorDeps): Promise<DoctorCheck> {
  try {
    const s = await deps.databaseStatus(loaded.database);
    if (s.state === 'too_new') {
      return {
        check: 'database',
        ok: false,
        detail: `${s.location}: schema ${s.schema_version}, newer than this mailgate's ${s.code_schema_version}`,
        fix: 'upgrade mailgate (npm install -g mailgate@latest)',
      };
    }
    const state =
      s.schema_version === 0
        ? 'not created yet; mailgate creates it on first start'
        : s.state === 'needs_migrate'
          ? 'older schema; migrated on start'
          : 'up to date';
    return { check: 'database', ok: true, detail: `${s.location}: ${state}` };
  } catch (err) {
    if (!(err instanceof MailgateError)) throw err;
    // The store's messages already say what to do (STORE_* in src/errors.ts): keep them whole as the fix.
    return { check: 'database', ok: false, detail: err.code, fix: err.message };
  }
}

/** A probe result as one check line (every caller goes through checkAccount, so all word it alike). */
function toCheck(check: string, a: { host: string; port: number }, r: ProbeResult): DoctorCheck {
  const at = `${a.host}:${a.port}`;
  if (!r.ok) return { check, ok: false, detail: `${at}: ${r.problem}`, ...(r.fix ? { fix: r.fix } : {}) };
  const tls = r.tls === 'none' ? 'no TLS (plain text)' : r.tls === 'implicit' ? 'TLS' : 'STARTTLS';
  const parts = [`${at}: connected, ${tls}, logged in`];
  if (r.features) {
    const f = r.features;
    parts.push(`special-use folders: ${f.specialUse.length ? f.specialUse.join(' ') : 'none'}`);
    parts.push(`IDLE ${f.idle ? 'yes' : 'no (new mail is polled)'}`, `CONDSTORE ${f.condstore ? 'yes' : 'no'}`);
  }
  return { check, ok: true, detail: parts.join('; ') };
}

function hintContext(
  protocol: 'imap' | 'smtp',
  index: number,
  a: { host: string; port: number; secure: boolean; requireStartTls: boolean },
  s: ImapSettings | SmtpSettings,
): HintContext {
  const key = `mailboxes[${index}].${protocol}`;
  return { protocol, host: a.host, port: a.port, secure: a.secure, starttls: a.requireStartTls, key, secret: secretSource(s, key) };
}

/** Names where the secret comes from, never the secret. */
function secretSource(s: ImapSettings | SmtpSettings, key: string): string {
  if (s.password_env !== undefined) return `the password variable ${s.password_env}`;
  if (s.password_file !== undefined) return `the password file ${s.password_file}`;
  if (s.access_token_env !== undefined) return `the access token in ${s.access_token_env}`;
  if (s.oauth2 !== undefined) return `the OAuth2 refresh token in ${s.oauth2.refresh_token_file ?? s.oauth2.refresh_token_env}`;
  return `\`${key}.password\``;
}
