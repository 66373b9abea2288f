/**
 * Loading configuration. Precedence: defaults < config file < environment < command-line flags, except that
 * MAILGATE_DATABASE_URL wins over --db too (issue 13): a deployment sets the shared database once, in the
 * environment, and a command run there with a habitual --db must not quietly open some local file instead.
 * Every problem is reported at once, each naming its key and the fix.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve, dirname } from 'node:path';
import type * as z from 'zod';
import { MailgateError } from '../errors.js';
import { resolveMode } from '../gate/modes.js';
import { type MailAccount, resolveAccount } from './accounts.js';
import { Config, DEFAULT_CONFIG_INPUT } from './schema.js';
import { closestKey, jsonSyntaxProblem, knownKeysAt } from './diagnostics.js';
import { type DatabaseLocation, parseDatabaseLocation } from '../store/location.js';
import { webhookConfigProblems } from '../webhooks/schema.js';

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or null for the built-in sandbox default. */
  source: string | null;
  /** The database: a SQLite file or a PostgreSQL URL. Print it only through databaseDisplay (the URL may hold a password). */
  database: DatabaseLocation;
  /** The SQLite file when `database` is one; undefined for PostgreSQL. */
  databasePath: string | undefined;
  /** Real IMAP/SMTP accounts by mailbox address, secrets resolved (never logged or stored). */
  accounts: Map<string, MailAccount>;
}

export interface ConfigFlags {
  config?: string | undefined;
  db?: string | undefined;
}

const DEFAULT_DATABASE = join(homedir(), '.mailgate', 'mailgate.db');

export function loadConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv = process.env): LoadedConfig {
  const file = flags.config ?? env.MAILGATE_CONFIG;
  let raw: unknown = DEFAULT_CONFIG_INPUT;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw configError([`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; check the --config path or MAILGATE_CONFIG`]);
    }
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw configError([jsonSyntaxProblem(file, text, err as Error)]);
    }
  }
  const parsed = Config.safeParse(raw);
  if (!parsed.success) throw configError(describeIssues(parsed.error, file ?? 'default config'));
  const config = parsed.data;
  const problems: string[] = [];
  const accounts = new Map<string, MailAccount>();
  for (const [i, mb] of config.mailboxes.entries()) {
    if (!mb.imap && !mb.smtp) continue;
    const r = resolveAccount(mb, `mailboxes[${i}] (${mb.address})`, env);
    problems.push(...r.problems);
    if (r.account) accounts.set(mb.address, r.account);
  }
  for (const [i, mb] of config.mailboxes.entries()) {
    const mode = resolveMode(mb);
    if (!mode.ok) problems.push(`mailboxes[${i}].${mode.field} (${mb.address}): ${mode.message}`);
  }
  const seen = new Set<string>();
  for (const [i, mb] of config.mailboxes.entries()) {
    if (seen.has(mb.address)) problems.push(`mailboxes[${i}].address: ${mb.address} is listed twice; keep one entry per mailbox`);
    seen.add(mb.address);
  }
  problems.push(...webhookConfigProblems(config));
  // Every database value given is checked, not only the one that wins, like every other key of the file.
  const fromFile = config.database === undefined ? undefined : locate(config.database, `database in ${file ?? 'the config'}`, problems);
  const overridden = givenDatabase(flags, env, problems);
  if (problems.length) throw configError(problems);
  const database = overridden ?? (fromFile && file ? relativeTo(fromFile, file) : undefined) ?? { kind: 'sqlite', path: DEFAULT_DATABASE };
  return { config, source: file ? resolve(file) : null, database, databasePath: database.kind === 'sqlite' ? database.path : undefined, accounts };
}

/** What logs, errors and status output may show of the database: its path, or its URL with the password as `***`. */
export function databaseDisplay(location: DatabaseLocation): string {
  return location.kind === 'sqlite' ? location.path : location.display;
}

/**
 * `--db` naming this database, with an absolute path, for the commands a person is told to run. A PostgreSQL URL
 * holding a password is left out, because those commands are shown to people and models: the person's own
 * MAILGATE_DATABASE_URL or --config then names the database.
 */
export function databaseFlags(location: DatabaseLocation): string[] {
  if (location.kind === 'sqlite') return ['--db', resolve(location.path)];
  return location.display === location.url ? ['--db', location.url] : [];
}

/** The database the environment or a flag names, in precedence order: MAILGATE_DATABASE_URL, --db, MAILGATE_DB. */
function givenDatabase(flags: ConfigFlags, env: NodeJS.ProcessEnv, problems: string[]): DatabaseLocation | undefined {
  const given: [string | undefined, string][] = [
    [env.MAILGATE_DATABASE_URL, 'MAILGATE_DATABASE_URL'],
    [flags.db, '--db'],
    [env.MAILGATE_DB, 'MAILGATE_DB'],
  ];
  return given.map(([value, source]) => (value === undefined ? undefined : locate(value, source, problems))).find((l) => l !== undefined);
}

function locate(value: string, source: string, problems: string[]): DatabaseLocation | undefined {
  try {
    return parseDatabaseLocation(value, source);
  } catch (err) {
    if (!(err instanceof MailgateError)) throw err;
    problems.push(err.message);
    return undefined;
  }
}

/** A relative SQLite path in the config file is relative to the file, not to the working directory. */
function relativeTo(location: DatabaseLocation, file: string): DatabaseLocation {
  if (location.kind !== 'sqlite' || isAbsolute(location.path)) return location;
  return { kind: 'sqlite', path: resolve(dirname(file), location.path) };
}

function describeIssues(error: z.ZodError, where: string): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length
      ? issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '')
      : '(top level)';
    if (issue.code !== 'unrecognized_keys') return `${where}: ${path}: ${issue.message}`;
    const known = knownKeysAt(Config, issue.path);
    const keys = issue.keys.map((k) => {
      const near = closestKey(k, known);
      return near ? `"${k}" (did you mean \`${near}\`?)` : `"${k}"`;
    });
    const many = keys.length > 1;
    return `${where}: ${path}: Unrecognized key${many ? 's' : ''}: ${keys.join(', ')}; remove ${many ? 'them' : 'it'} or check the spelling`;
  });
}

function configError(problems: string[]): MailgateError {
  return new MailgateError('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
}
