/**
 * The SQL of `mailgate db copy`: a SQLite database's rows into an empty PostgreSQL database of the same schema,
 * table by table. src/domain/db-copy.ts runs these inside one PostgreSQL transaction and one SQLite read snapshot.
 * Columns are matched by name, not position: a SQLite file migrated from an old version has its added columns
 * last, where a fresh schema has them elsewhere.
 */
import { ident } from './inventory.js';
import type { SqlTx } from './sql/types.js';

/**
 * Every table that holds data, each after the tables it references (schema.sql's order), so foreign keys hold
 * at each insert. meta is copied apart (its schema_version is per backend). A table neither here nor in LEFT_OUT,
 * or one here that a database lacks, stops the copy (checkTables): it would otherwise be left behind silently.
 */
export const COPY_TABLES: readonly string[] = [
  'mailboxes',
  'contact_list_members',
  'correspondents',
  'messages',
  'message_recipients',
  'mailbox_actions',
  'message_attachments',
  'emails',
  'imap_folders',
  'captured_mail',
  'audit_events',
  'tokens',
  'suppressions',
  'contacts',
  'webhook_endpoints',
  'webhook_events',
  'webhook_deliveries',
  'approval_links',
  'change_links',
];

/**
 * Tables left out on purpose. leases: who is doing fleet work right now (an IMAP watcher), which names processes of
 * the old database; none of them runs on the new one, and a copied lease would only hold the work back until it expired.
 * audit_head: PostgreSQL's record of the chain's newest event, which SQLite does not have; the copy sets it from
 * the copied chain (recordChainHead).
 */
const LEFT_OUT: readonly string[] = ['leases', 'audit_head'];

/** What one table's copy writes: the columns both sides have, and whether it must override an identity. */
export interface TablePlan {
  table: string;
  columns: readonly string[];
  /** Identity columns given values (audit_events.seq keeps its numbers): OVERRIDING SYSTEM VALUE, then a restart. */
  identities: readonly string[];
  /** Rows hold BLOBs (attachment bytes): read a few at a time so memory stays bounded. */
  blobs: boolean;
}

/**
 * Runs fn inside one read transaction of the SQLite source, so every table is read as of one moment even while
 * a mailgate process keeps writing to the file.
 */
export async function inSnapshot<T>(src: SqlTx, fn: () => Promise<T>): Promise<T> {
  await src.run('BEGIN');
  try {
    return await fn();
  } finally {
    await src.run('COMMIT');
  }
}

/**
 * The source's data tables: not meta, not SQLite's own (sqlite_sequence) and not the full-text index (the
 * virtual emails_fts and its shadow tables), which PostgreSQL replaces with a generated column.
 */
async function sqliteTables(src: SqlTx): Promise<string[]> {
  const rows = await src.all<{ name: string; sql: string | null }>("SELECT name, sql FROM sqlite_schema WHERE type = 'table' ORDER BY name");
  const virtual = rows.filter((r) => /^CREATE VIRTUAL TABLE/i.test(r.sql ?? '')).map((r) => r.name);
  return rows.map((r) => r.name).filter((n) => n !== 'meta' && !n.startsWith('sqlite_') && !virtual.some((v) => n === v || n.startsWith(`${v}_`)));
}

/** The target's tables besides meta: all of them, when mailgate has not migrated it yet. */
export async function pgTables(dst: SqlTx): Promise<string[]> {
  const names = await dst.column<string>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name",
  );
  return names.filter((n) => n !== 'meta');
}

/** Throws unless source and target hold exactly COPY_TABLES (besides meta and LEFT_OUT): no table is left behind unnoticed. */
export async function checkTables(src: SqlTx, dst: SqlTx): Promise<void> {
  const want = [...COPY_TABLES].sort();
  for (const [side, have] of [
    ['the SQLite database', await sqliteTables(src)],
    ['the PostgreSQL database', await pgTables(dst)],
  ] as const) {
    const extra = have.filter((t) => !want.includes(t) && !LEFT_OUT.includes(t));
    const missing = want.filter((t) => !have.includes(t));
    if (extra.length || missing.length) {
      throw new Error(`${side} does not have the tables this mailgate copies (extra: ${extra.join(', ') || 'none'}; missing: ${missing.join(', ') || 'none'})`);
    }
  }
}

/**
 * Keeps every other writer out of the target until the copy commits (reads still run), so the emptiness checked
 * first is still true when the rows go in.
 */
export async function lockTarget(dst: SqlTx): Promise<void> {
  await dst.run(`LOCK TABLE ${['meta', ...COPY_TABLES].map(ident).join(', ')} IN EXCLUSIVE MODE`);
}

/**
 * The target's tables among `tables` that already hold rows, with their counts, and meta if it has rows besides
 * the schema version. `tables`: the database's own list when it may be at an older schema than COPY_TABLES.
 */
export async function nonEmptyTables(dst: SqlTx, tables: readonly string[] = COPY_TABLES): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  const meta = Number(await dst.value<number>("SELECT COUNT(*) FROM meta WHERE key <> 'schema_version'"));
  if (meta > 0) found.meta = meta;
  // Named in copy order, whatever order the list came in.
  const ordered = [...COPY_TABLES.filter((t) => tables.includes(t)), ...tables.filter((t) => !COPY_TABLES.includes(t))];
  for (const t of ordered) {
    const n = Number(await dst.value<number>(`SELECT COUNT(*) FROM ${ident(t)}`));
    if (n > 0) found[t] = n;
  }
  return found;
}

/**
 * Which columns to copy. Generated columns (search_vector) are computed by the target, and identity columns the
 * source lacks (row_seq) are numbered by it as rows go in. Any other column on one side only stops the copy.
 */
export async function planTable(src: SqlTx, dst: SqlTx, table: string): Promise<TablePlan> {
  const source = await src.all<{ name: string; type: string }>('SELECT name, type FROM pragma_table_info(?)', [table]);
  const target = await dst.all<{ name: string; is_identity: string; is_generated: string }>(
    `SELECT column_name AS name, is_identity, is_generated FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`,
    [table],
  );
  const inSource = new Set(source.map((c) => c.name));
  const copied = target.filter((c) => c.is_generated !== 'ALWAYS' && (c.is_identity !== 'YES' || inSource.has(c.name)));
  const lacking = copied.filter((c) => !inSource.has(c.name)).map((c) => c.name);
  const dropped = source.filter((c) => !copied.some((t) => t.name === c.name)).map((c) => c.name);
  if (lacking.length || dropped.length) {
    throw new Error(`${table}: the columns differ (only in PostgreSQL: ${lacking.join(', ') || 'none'}; only in SQLite: ${dropped.join(', ') || 'none'})`);
  }
  return {
    table,
    columns: copied.map((c) => c.name),
    identities: copied.filter((c) => c.is_identity === 'YES').map((c) => c.name),
    blobs: source.some((c) => /BLOB/i.test(c.type)),
  };
}

/** Bind parameters per INSERT: well under PostgreSQL's 65,535, and large enough that a statement carries many rows. */
const PARAMS_PER_INSERT = 30_000;

/**
 * Copies one table's rows in SQLite rowid order, a page per INSERT, and returns how many. The order makes the
 * target's row_seq follow the source's rowid, which is what both use as insertion order.
 */
export async function copyRows(src: SqlTx, dst: SqlTx, plan: TablePlan): Promise<number> {
  const list = plan.columns.map(ident).join(', ');
  const page = plan.blobs ? 16 : Math.max(1, Math.min(1000, Math.floor(PARAMS_PER_INSERT / plan.columns.length)));
  const tuple = `(${plan.columns.map(() => '?').join(', ')})`;
  const overriding = plan.identities.length ? ' OVERRIDING SYSTEM VALUE' : '';
  let after = Number.MIN_SAFE_INTEGER;
  let copied = 0;
  for (;;) {
    const rows = await src.all<Record<string, unknown>>(
      `SELECT rowid AS copy_rowid, ${list} FROM ${ident(plan.table)} WHERE rowid > ? ORDER BY rowid LIMIT ?`,
      [after, page],
    );
    if (rows.length === 0) return copied;
    const values = rows.flatMap((r) => plan.columns.map((c) => r[c]));
    await dst.run(`INSERT INTO ${ident(plan.table)} (${list})${overriding} VALUES ${rows.map(() => tuple).join(', ')}`, values);
    copied += rows.length;
    after = Number(rows[rows.length - 1]!.copy_rowid);
  }
}

/** After rows came in with their own numbers: the identity continues above the highest, as AUTOINCREMENT would. */
export async function restartIdentity(dst: SqlTx, table: string, column: string): Promise<void> {
  const next = Number(await dst.value<number>(`SELECT COALESCE(MAX(${ident(column)}), 0) + 1 FROM ${ident(table)}`));
  // DDL takes no parameters; `next` is an integer the database just computed. ALTER (unlike setval) rolls back.
  await dst.run(`ALTER TABLE ${ident(table)} ALTER COLUMN ${ident(column)} RESTART WITH ${Math.trunc(next)}`);
}

/** The source's meta rows but its schema version: the personal-data mode and the audit salt belong to the data. */
export async function copyMeta(src: SqlTx, dst: SqlTx): Promise<number> {
  const rows = await src.all<{ key: string; value: string }>("SELECT key, value FROM meta WHERE key <> 'schema_version' ORDER BY key");
  for (const r of rows) await dst.run('INSERT INTO meta (key, value) VALUES (?, ?)', [r.key, r.value]);
  return rows.length;
}
