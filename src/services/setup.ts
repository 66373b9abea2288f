/**
 * `mailgate init`'s use case: test a new mailbox's IMAP and SMTP login with the probes `mailgate doctor` uses,
 * and add the mailbox to a config file without disturbing the rest of it. The secret never reaches the file:
 * an entry names only where it comes from (password_env or password_file).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { resolveAccount } from '../config/accounts.js';
import { jsonSyntaxProblem } from '../config/diagnostics.js';
import { Config, MailboxConfig } from '../config/schema.js';
import { MailgateError } from '../errors.js';
import type * as z from 'zod';
import { canonicalAddress } from '../values.js';
import { checkAccount, type DoctorCheck } from './doctor.js';

/** The file init writes when neither --config nor MAILGATE_CONFIG names one; the README's suggested place. */
export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  return resolve(env.MAILGATE_CONFIG || join(homedir(), '.mailgate', 'mailgate.config.json'));
}

/** An entry as written to the file: only the keys given, no schema defaults filled in. */
export type MailboxEntry = z.input<typeof MailboxConfig>;

export interface ConnectionTest {
  ok: boolean;
  checks: DoctorCheck[];
}

/**
 * Logs in to the mailbox's IMAP and SMTP servers, as doctor does, with the secret from `env` (init passes a
 * copy holding a password typed only for this test). `index` is where the entry will sit in the file, so a
 * hint names the same key doctor would (`mailboxes[2].imap.secure`).
 */
export async function testMailbox(entry: MailboxConfig, index: number, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<ConnectionTest> {
  const resolved = resolveAccount(entry, `mailboxes[${index}] (${entry.address})`, env);
  if (!resolved.account || !entry.imap || !entry.smtp) {
    const checks = resolved.problems.map((p) => ({ check: 'secret', ok: false, detail: p }));
    return { ok: false, checks };
  }
  const checks = await Promise.all(checkAccount(entry.address, index, resolved.account, { imap: entry.imap, smtp: entry.smtp }, timeoutMs));
  return { ok: checks.every((c) => c.ok), checks };
}

export interface ConfigChange {
  /** The file's JSON with the entry added or replaced; every other key kept as it was written. */
  document: Record<string, unknown>;
  /** The entry's position in `mailboxes`. */
  index: number;
  /** True when a mailbox with the same address was replaced (--force). */
  replaced: boolean;
  /** False when the file does not exist yet. */
  existed: boolean;
}

/**
 * What the file will hold once the entry is added. Refuses, before anything is asked or tested, a file that
 * is not a valid config, and an address already in it unless `force`: replacing a mailbox's settings
 * silently could loosen its oversight mode.
 */
export function planMailboxChange(file: string, entry: MailboxEntry, force: boolean): ConfigChange {
  const { document, existed } = readDocument(file);
  const raw = document.mailboxes ?? [];
  if (!Array.isArray(raw)) throw configProblem(file, ['mailboxes: must be a list; fix the file or choose another with --config']);
  const mailboxes: unknown[] = [...raw];
  const at = mailboxes.findIndex((m) => {
    const a = (m as { address?: unknown } | null)?.address;
    return typeof a === 'string' && canonicalAddress(a) === canonicalAddress(entry.address);
  });
  if (at >= 0 && !force) {
    throw new MailgateError(
      'MAILBOX_EXISTS',
      `${entry.address} is already in ${file} (mailboxes[${at}]); nothing was changed. Pass --force to replace that entry, or edit the file`,
      { field: '--address' },
    );
  }
  const index = at >= 0 ? at : mailboxes.length;
  mailboxes[index] = entry;
  const next = { ...document, mailboxes };
  const parsed = Config.safeParse(next);
  if (!parsed.success) {
    throw configProblem(
      file,
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`),
    );
  }
  return { document: next, index, replaced: at >= 0, existed };
}

/**
 * Adds the entry and writes the file atomically (a temporary file in the same directory, then a rename), mode
 * 0600: a reader never sees half a file, and the file, which names where the secrets are, stays private.
 * The plan is made again here, so a change to the file since the first plan is kept or refused, not overwritten.
 */
export function saveMailbox(file: string, entry: MailboxEntry, force: boolean): ConfigChange {
  const change = planMailboxChange(file, entry, force);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(change.document, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // The creation mode is masked by the umask; this makes it exactly 0600 whatever the umask.
    chmodSync(temp, 0o600);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new MailgateError('CONFIG_INVALID', `cannot write ${file} (${code}); check the directory's permissions, or choose another file with --config`);
  }
  return change;
}

/** Validates one entry as the config schema would, naming the flag or answer at fault. */
export function checkMailboxEntry(entry: unknown): MailboxConfig {
  const parsed = MailboxConfig.safeParse(entry);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  throw new MailgateError('INVALID_INPUT', `${path || 'mailbox'}: ${issue.message}`, { field: path });
}

function readDocument(file: string): { document: Record<string, unknown>; existed: boolean } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { document: {}, existed: false };
    throw configProblem(file, [`cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)}); check the path and permissions`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw configProblem(file, [jsonSyntaxProblem(file, text, err as Error)]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw configProblem(file, ['(top level): must be a JSON object']);
  return { document: value as Record<string, unknown>, existed: true };
}

function configProblem(file: string, problems: string[]): MailgateError {
  return new MailgateError('CONFIG_INVALID', `${file} is not a config mailgate init can add to; nothing was changed:\n  - ${problems.join('\n  - ')}`, {
    details: { problems },
  });
}
