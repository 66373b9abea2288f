/**
 * The PostgreSQL schema against schema.sql, so the two cannot drift: the same tables, columns (and their types,
 * mapped), CHECK value lists, keys, unique and plain indexes and foreign keys. What differs on purpose is listed
 * here, and explained in src/store/pg/schema-v1.ts. A change to schema.sql fails this test until a PostgreSQL
 * migration makes the same change.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgDriver } from '../../src/store/sql/pg-driver.js';
import { ACTION_STATUSES, AUDIT_ACTIONS, GATE_CODES, MESSAGE_STATUSES, OVERSIGHT_MODES } from '../../src/values.js';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';

/** Only in PostgreSQL: the insertion-order and full-text columns, the full-text index. */
const PG_ONLY_COLUMNS = ['emails.row_seq', 'emails.search_vector', 'messages.row_seq'];
const PG_ONLY_INDEXES = ['emails_search'];
/** Only in PostgreSQL: the record of the audit chain's head (SQLite's sqlite_sequence counter serves instead). */
const PG_ONLY_TABLES = ['audit_head'];
/** Only in SQLite: the FTS5 table and its shadow tables. */
const isFts = (table: string) => table.startsWith('emails_fts');
const PG_TYPE: Record<string, string> = { TEXT: 'text', INTEGER: 'bigint', BLOB: 'bytea' };

interface Shape {
  columns: string[]; // table.column:type
  checks: Record<string, string[]>; // table.column -> sorted values of its `IN (...)` CHECK
  keys: string[]; // pk/unique: table(columns) [partial]
  indexes: string[]; // names of the plain CREATE INDEX ones
  foreignKeys: string[]; // table.column -> table.column
}

const sorted = (xs: Iterable<string>) => [...xs].sort();
const quoted = (s: string) => [...s.matchAll(/'([^']*)'/g)].map((m) => m[1]!).sort();

function sqliteShape(): Shape {
  const db = new Database(':memory:');
  db.exec(readFileSync(new URL('../../schema.sql', import.meta.url), 'utf8'));
  const tables = (
    db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string; sql: string }[]
  ).filter((t) => !isFts(t.name));
  const shape: Shape = { columns: [], checks: {}, keys: [], indexes: [], foreignKeys: [] };
  for (const t of tables) {
    const cols = db.pragma(`table_info(${t.name})`) as { name: string; type: string; pk: number }[];
    shape.columns.push(...cols.map((c) => `${t.name}.${c.name}:${PG_TYPE[c.type] ?? c.type}`));
    for (const m of t.sql.matchAll(/CHECK \((\w+) IN \(([^)]*)\)\)/g)) if (m[2]!.includes("'")) shape.checks[`${t.name}.${m[1]}`] = quoted(m[2]!);
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    shape.keys.push(`pk ${t.name}(${pk.map((c) => c.name).join(',')})`);
    for (const ix of db.pragma(`index_list(${t.name})`) as { name: string; unique: number; origin: string; partial: number }[]) {
      if (!ix.unique || ix.origin === 'pk') continue;
      const on = (db.pragma(`index_info(${ix.name})`) as { name: string | null }[]).map((c) => c.name ?? 'expr');
      shape.keys.push(`unique ${t.name}(${on.join(',')})${ix.partial ? ' partial' : ''}`);
    }
    for (const fk of db.pragma(`foreign_key_list(${t.name})`) as { table: string; from: string; to: string }[]) {
      shape.foreignKeys.push(`${t.name}.${fk.from} -> ${fk.table}.${fk.to}`);
    }
  }
  shape.indexes = (
    db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%'").all() as { name: string }[]
  ).map((r) => r.name);
  db.close();
  return shape;
}

async function pgShape(d: PgDriver): Promise<Shape> {
  return d.read(async (q) => {
    const columns = await q.all<{ t: string; c: string; type: string }>(
      "SELECT table_name AS t, column_name AS c, data_type AS type FROM information_schema.columns WHERE table_schema = 'public'",
    );
    const constraints = await q.all<{ t: string; type: string; def: string }>(
      "SELECT conrelid::regclass::text AS t, contype AS type, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    );
    const indexes = await q.all<{ t: string; name: string; is_unique: boolean; pk: boolean; partial: boolean; cols: string[]; backs: boolean }>(
      `SELECT t.relname AS t, i.relname AS name, ix.indisunique AS is_unique, ix.indisprimary AS pk, ix.indpred IS NOT NULL AS partial,
              array(SELECT coalesce(a.attname::text, 'expr') FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                    LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord) AS cols,
              EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid) AS backs
       FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid
       WHERE t.relnamespace = 'public'::regnamespace`,
    );
    const shape: Shape = { columns: [], checks: {}, keys: [], indexes: [], foreignKeys: [] };
    shape.columns = columns.filter((c) => !PG_ONLY_COLUMNS.includes(`${c.t}.${c.c}`) && !PG_ONLY_TABLES.includes(c.t)).map((c) => `${c.t}.${c.c}:${c.type}`);
    for (const con of constraints.filter((c) => !PG_ONLY_TABLES.includes(c.t))) {
      const list = /^CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)$/.exec(con.def);
      if (con.type === 'c' && list?.[2]?.includes("'")) shape.checks[`${con.t}.${list[1]}`] = quoted(list[2]!);
      const fk = /^FOREIGN KEY \((\w+)\) REFERENCES (\w+)\((\w+)\)$/.exec(con.def);
      if (con.type === 'f' && fk) shape.foreignKeys.push(`${con.t}.${fk[1]} -> ${fk[2]}.${fk[3]}`);
    }
    for (const ix of indexes.filter((i) => !PG_ONLY_TABLES.includes(i.t))) {
      if (ix.pk) shape.keys.push(`pk ${ix.t}(${ix.cols.join(',')})`);
      else if (ix.is_unique) shape.keys.push(`unique ${ix.t}(${ix.cols.join(',')})${ix.partial ? ' partial' : ''}`);
      else if (!ix.backs && !PG_ONLY_INDEXES.includes(ix.name)) shape.indexes.push(ix.name);
    }
    return shape;
  });
}

describe.skipIf(!requirePostgresOrSkip())('the PostgreSQL schema matches schema.sql', () => {
  let cluster: Postgres;
  let d: PgDriver;
  let lite: Shape;
  let pgs: Shape;
  beforeAll(async () => {
    cluster = await startPostgres();
    d = await PgDriver.open(await cluster.freshDatabase());
    lite = sqliteShape();
    pgs = await pgShape(d);
  });
  afterAll(async () => {
    await d?.close();
    await cluster?.stop();
  });

  it('has the same tables and columns, with INTEGER as bigint and BLOB as bytea', () => {
    expect(sorted(pgs.columns)).toEqual(sorted(lite.columns));
    expect(lite.columns.length).toBeGreaterThan(150); // the comparison saw the whole schema
  });

  it('has the same CHECK value lists, which are src/values.ts', () => {
    expect(pgs.checks).toEqual(lite.checks);
    expect(pgs.checks['messages.gate_code']).toEqual(sorted(GATE_CODES));
    expect(pgs.checks['audit_events.action']).toEqual(sorted(AUDIT_ACTIONS));
    expect(pgs.checks['messages.status']).toEqual(sorted(MESSAGE_STATUSES));
    expect(pgs.checks['mailbox_actions.status']).toEqual(sorted(ACTION_STATUSES));
    expect(pgs.checks['mailboxes.oversight_mode']).toEqual(sorted(OVERSIGHT_MODES));
  });

  it('has the same primary keys, unique constraints and indexes, and foreign keys', () => {
    expect(sorted(pgs.keys)).toEqual(sorted(lite.keys));
    expect(sorted(pgs.indexes)).toEqual(sorted(lite.indexes));
    expect(sorted(pgs.foreignKeys)).toEqual(sorted(lite.foreignKeys));
  });

  it('collates every text column as C, like SQLite BINARY, whatever the database default', async () => {
    const other = await d.read((q) =>
      q.column(
        "SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'text' AND collation_name IS DISTINCT FROM 'C'",
      ),
    );
    expect(other).toEqual([]);
  });
});
