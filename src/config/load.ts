/**
 * Loading configuration. Precedence: defaults < config file < environment < command-line flags.
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
import { webhookConfigProblems } from '../webhooks/schema.js';

export interface LoadedConfig {
  config: Config;
  /** The file it came from, or null for the built-in sandbox default. */
  source: string | null;
  databasePath: string;
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
      throw configError([`${file} is not valid JSON: ${(err as Error).message}`]);
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
  if (problems.length) throw configError(problems);
  const fromFile = config.database && file && !isAbsolute(config.database) ? resolve(dirname(file), config.database) : config.database;
  const databasePath = flags.db ?? env.MAILGATE_DB ?? fromFile ?? DEFAULT_DATABASE;
  return { config, source: file ? resolve(file) : null, databasePath, accounts };
}

function describeIssues(error: z.ZodError, where: string): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length
      ? issue.path
          .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
          .join('')
          .replace(/^\./, '')
      : '(top level)';
    const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')}); remove it or check its spelling` : '';
    return `${where}: ${path}: ${issue.message}${keys}`;
  });
}

function configError(problems: string[]): MailgateError {
  return new MailgateError('CONFIG_INVALID', `invalid configuration:\n  - ${problems.join('\n  - ')}`, { details: { problems } });
}
