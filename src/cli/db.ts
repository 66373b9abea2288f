/**
 * `mailgate db status | migrate | copy`: the database itself rather than the mail in it. None of them starts the
 * app (which would migrate, apply the config's mailboxes and webhooks, and start workers): status changes
 * nothing, and a copy's target must stay empty until the copy fills it. What they print names a PostgreSQL
 * database only by its display form, the password masked.
 */
import { type CopyReport, copyDatabase, type DatabaseStatus, databaseStatus, type MigrateResult, migrateDatabase } from '../app.js';
import type { LoadedConfig } from '../config/load.js';
import { invalid } from '../errors.js';
import { printJson, printLine, printTable } from './output.js';

export interface DbFlags {
  json?: boolean | undefined;
  verify?: boolean | undefined;
  from?: string | undefined;
  to?: string | undefined;
  db?: string | undefined;
  config?: string | undefined;
}

/** `load` reads the config (and --db) only for the subcommands that act on the configured database. */
export async function dbCommand(sub: string | undefined, args: string[], flags: DbFlags, load: () => LoadedConfig, env: NodeJS.ProcessEnv): Promise<number> {
  if (args.length) throw invalid('db', `'mailgate db ${sub}' takes no arguments besides its options (got '${args[0]}')`);
  if (sub === 'status' || sub === undefined) {
    const status = await databaseStatus(load().database, { verify: flags.verify === true });
    if (flags.json) printJson(status);
    else printStatus(status);
    return status.audit && !status.audit.ok ? 1 : 0;
  }
  if (sub === 'migrate') {
    const r = await migrateDatabase(load().database);
    if (flags.json) printJson(r);
    else printMigrate(r);
    return 0;
  }
  if (sub === 'copy') {
    // The source and target are named by these two alone: a --db here would suggest it is one of them.
    for (const f of ['db', 'config'] as const) {
      if (flags[f] !== undefined) throw invalid(`--${f}`, "'mailgate db copy' reads --from FILE and writes --to URL; it takes no --db or --config");
    }
    if (flags.from === undefined) throw invalid('--from', 'give the SQLite database file to copy from, e.g. --from ~/.mailgate/mailgate.db');
    // Defaulting to the environment keeps the password off the command line (and out of `ps`).
    const to = flags.to ?? env.MAILGATE_DATABASE_URL;
    if (to === undefined) {
      throw invalid(
        '--to',
        'give the PostgreSQL database to copy into: --to postgres://USER@HOST:PORT/DATABASE (password in PGPASSWORD), or set MAILGATE_DATABASE_URL',
      );
    }
    const r = await copyDatabase(flags.from, to, flags.to === undefined ? 'MAILGATE_DATABASE_URL' : '--to');
    if (flags.json) printJson(r);
    else printCopy(r);
    return r.audit.ok ? 0 : 1;
  }
  throw invalid('db', `unknown subcommand '${sub}'; use status, migrate or copy`);
}

const STATES: Record<DatabaseStatus['state'], string> = {
  up_to_date: 'up to date',
  needs_migrate: "needs migrate: run 'mailgate db migrate'",
  too_new: 'newer than this mailgate: upgrade mailgate (npm install -g mailgate@latest)',
};

function printStatus(s: DatabaseStatus): void {
  const line = (label: string, value: string) => printLine(`${label.padEnd(10)} ${value}`);
  line('backend', s.backend);
  line('location', s.location);
  line('schema', `${s.schema_version || 'none'} (this mailgate: ${s.code_schema_version}): ${STATES[s.state]}`);
  if (s.counts) {
    const byStatus = Object.entries(s.counts.messages);
    const total = byStatus.reduce((n, [, c]) => n + c, 0);
    line('mailboxes', String(s.counts.mailboxes));
    line('messages', `${total}${byStatus.length ? ` (${byStatus.map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);
    line('audit', `${s.counts.audit_events} events`);
  }
  if (s.audit) line('chain', chainText(s.audit));
}

function chainText(a: NonNullable<DatabaseStatus['audit']>): string {
  if (!a.ok) return `BROKEN at event seq ${a.first_bad_seq}: ${a.problem}`;
  return a.head ? `ok, ${a.events} events; head seq ${a.head.seq} hash ${a.head.hash}` : 'ok, no events yet';
}

function printMigrate(r: MigrateResult): void {
  printLine(r.from === r.to ? `${r.location}: already at schema ${r.to}, nothing to do` : `${r.location}: migrated from schema ${r.from || 'none'} to ${r.to}`);
}

function printCopy(r: CopyReport): void {
  if (r.source_migrated) printLine(`${r.from}: migrated from schema ${r.source_migrated.from} to ${r.source_migrated.to} first`);
  printLine(`copied ${r.from} to ${r.to} in one transaction:`);
  printTable(
    Object.entries(r.tables).map(([table, rows]) => ({ table, rows })),
    ['table', 'rows'],
  );
  printLine(`audit chain of the copy: ${chainText(r.audit)}`);
  const same = r.audit.ok && r.source_audit.ok && r.audit.head?.hash === r.source_audit.head?.hash;
  if (!same) printLine(`audit chain of the source: ${chainText(r.source_audit)}`);
}
