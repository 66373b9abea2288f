/**
 * `mailgate db copy --from FILE --to URL`: moving a SQLite deployment to PostgreSQL. Every row, audit seq numbers
 * and hashes included, goes into an empty PostgreSQL database in one transaction, so the target ends up with all of
 * it or none of it, and its audit chain is the source's chain, verified there before and after the commit.
 *
 * Nothing is written anywhere until both sides have been checked: the file is a mailgate SQLite database, the
 * target is a PostgreSQL database holding nothing (a database with tables mailgate did not make is refused
 * before the schema is created in it). Only then is each brought to its current schema, the source by
 * opening it read-write (the one write it gets, and only when it is behind); the copy reads it read-only.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { invalid, MailgateError } from '../errors.js';
import { recordChainHead, type VerifyResult, verifyAuditChain } from '../store/audit.js';
import { checkTables, COPY_TABLES, copyMeta, copyRows, inSnapshot, lockTarget, nonEmptyTables, pgTables, planTable, restartIdentity } from '../store/copy.js';
import { rowCounts } from '../store/inventory.js';
import { parseDatabaseLocation } from '../store/location.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { migratePg } from '../store/pg/migrations.js';
import { PgDriver } from '../store/sql/pg-driver.js';
import { SqliteDriver } from '../store/sql/sqlite-driver.js';
import type { SqlTx } from '../store/sql/types.js';
import { isFile, migrateDatabase, schemaVersionOf } from './db-admin.js';

export interface CopyReport {
  from: string;
  /** The target's URL with its password as `***`. */
  to: string;
  /** The versions the SQLite file was migrated between before the copy; null when it was current. */
  source_migrated: { from: number; to: number } | null;
  /** Rows copied per table; meta counts its rows besides the schema version. */
  tables: Record<string, number>;
  /** The source's chain, walked in the snapshot that was copied. */
  source_audit: VerifyResult;
  /** The target's chain, walked after the commit. */
  audit: VerifyResult;
}

const SQLITE_HEADER = 'SQLite format 3\0';

/**
 * Copies the SQLite file `from` into the PostgreSQL database `to`. `toSource` names where `to` came from
 * (`--to`, or the environment variable it defaulted to) for error messages, which never show the URL itself.
 */
export async function copyDatabase(from: string, to: string, toSource = '--to'): Promise<CopyReport> {
  const target = parseDatabaseLocation(to, toSource);
  if (target.kind !== 'postgres') throw invalid(toSource, 'give a postgres:// or postgresql:// URL: db copy copies into PostgreSQL');
  const path = sqliteFile(from);
  const version = await sourceVersion(path);

  const dst = new PgDriver(target.url);
  try {
    await prepareTarget(dst, target.display);
    const source_migrated = version === SCHEMA_VERSION ? null : pick(await migrateDatabase({ kind: 'sqlite', path }));
    const src = new SqliteDriver(path, { readonly: true });
    try {
      const copied = await src.read((s) =>
        inSnapshot(s, async () => {
          const audit = await verifyAuditChain(s);
          return { audit, tables: await copyInto(s, dst, target.display, audit) };
        }),
      );
      return {
        from: path,
        to: target.display,
        source_migrated,
        tables: copied.tables,
        source_audit: copied.audit,
        audit: await dst.read((q) => verifyAuditChain(q)),
      };
    } finally {
      await src.close();
    }
  } finally {
    await dst.close();
  }
}

/** `--from` must name an existing SQLite file (checked by its header: opening anything else would create or change it). */
function sqliteFile(from: string): string {
  const location = parseDatabaseLocation(from, '--from');
  if (location.kind !== 'sqlite') throw invalid('--from', 'give the SQLite database file to copy from, not a URL');
  const path = location.path;
  if (!isFile(path)) throw invalid('--from', `there is no file ${path}; give the SQLite database file to copy from`);
  const header = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_HEADER) throw invalid('--from', `${path} is not a SQLite database`);
  return path;
}

/**
 * The target must be PostgreSQL that mailgate can fill: no rows in any of its tables, and no tables at all but
 * ours (a database mailgate never migrated holding tables is another program's). Both are checked before the
 * migration, which would otherwise create the schema beside someone else's or change a database it then refuses;
 * a database newer than this code is refused by the migration, untouched. Emptiness is checked again under lock
 * in the copy transaction.
 */
async function prepareTarget(dst: PgDriver, display: string): Promise<void> {
  const version = await schemaVersionOf(dst);
  const tables = await dst.read((q) => pgTables(q));
  if (version === 0 && tables.length) {
    throw invalid('--to', `${display} holds tables mailgate did not make (${list(tables)}); give a new, empty database (createdb NAME)`);
  }
  const found = version === 0 ? {} : await dst.read((q) => nonEmptyTables(q, tables));
  if (Object.keys(found).length) throw notEmpty(display, found);
  await migratePg(dst.pool, (err) => dst.translate(err));
}

/**
 * The file's schema version, read-only; a SQLite file mailgate did not make is refused here, before the target is
 * touched, and so is one newer than this code. One that is behind is migrated once the target has been checked
 * (the copy's columns are the current schema's).
 */
async function sourceVersion(path: string): Promise<number> {
  const probe = new SqliteDriver(path, { readonly: true });
  let version: number;
  try {
    version = await schemaVersionOf(probe);
  } finally {
    await probe.close();
  }
  if (version === 0) throw invalid('--from', `${path} is a SQLite database, but not one mailgate made (it has no schema version)`);
  if (version > SCHEMA_VERSION) {
    throw new MailgateError(
      'STORE_TOO_NEW',
      `${path} is at schema version ${version}, newer than this mailgate understands (${SCHEMA_VERSION}): copy it with the mailgate that wrote it`,
      { details: { database: path, schema_version: version } },
    );
  }
  return version;
}

/** The one transaction on the target: every table in foreign-key order, checked before it commits. */
function copyInto(src: SqlTx, dst: PgDriver, display: string, before: VerifyResult): Promise<Record<string, number>> {
  return dst.tx(async (t) => {
    await lockTarget(t);
    const found = await nonEmptyTables(t);
    if (Object.keys(found).length) throw notEmpty(display, found);
    try {
      await checkTables(src, t);
      const tables: Record<string, number> = { meta: await copyMeta(src, t) };
      for (const table of COPY_TABLES) {
        const plan = await planTable(src, t, table);
        tables[table] = await copyRows(src, t, plan);
        for (const column of plan.identities) await restartIdentity(t, table, column);
      }
      await recordChainHead(t);
      const [here, there] = [await rowCounts(src, COPY_TABLES), await rowCounts(t, COPY_TABLES)];
      const differ = COPY_TABLES.filter((x) => here[x] !== there[x] || tables[x] !== here[x]);
      if (differ.length) throw new Error(`row counts differ after the copy in ${list(differ)}`);
      // Refuse to commit a copy whose chain breaks where the source's held: the copy changed something.
      const after = await verifyAuditChain(t);
      if (before.ok && !after.ok) throw new Error(`the copied audit chain does not verify at seq ${after.first_bad_seq}: ${after.problem}`);
      return tables;
    } catch (err) {
      if (err instanceof MailgateError) throw err;
      // Constraint violations and the checks above: the message names the table and the rows, never the URL.
      throw new MailgateError('INTERNAL', `the copy failed and was rolled back, so ${display} is still empty: ${(err as Error).message}`);
    }
  });
}

const pick = ({ from, to }: { from: number; to: number }) => ({ from, to });
const list = (names: readonly string[]) => names.join(', ');

function notEmpty(display: string, found: Record<string, number>): MailgateError {
  const what = Object.entries(found)
    .map(([t, n]) => `${t}: ${n}`)
    .join(', ');
  return invalid('--to', `${display} is not empty (${what}); db copy fills only an empty database: give a new one (createdb NAME)`);
}
