/**
 * The SQLite-only side of the store suite: a database file whose connection (`db`) tests may use directly, for
 * what the Store interface does not show and the conformance suite therefore cannot check: the schema and its
 * migrations, the audit triggers, pragmas, edits under the interface, worker threads on one file.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';
import ts from 'typescript';
import { afterEach, beforeEach } from 'vitest';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';

/** A fresh temp dir holding one database file; `open()` gives another connection (a second "process"). */
export function sqliteDb() {
  const dir = tempDir('mailgate-store-');
  const path = dir.file('mailgate.db');
  const opened: SqliteStore[] = [];
  return {
    dir,
    path,
    open(opts?: { busyTimeoutMs?: number }): SqliteStore {
      const s = new SqliteStore(path, opts);
      opened.push(s);
      return s;
    },
    async close() {
      for (const s of opened) await s.close();
      dir.cleanup();
    },
  };
}

/** useStore (fixtures.ts) on a SQLite file whose connection the test reads and writes directly. */
export function useSqliteStore(setup: (s: SqliteStore) => Promise<unknown> = async () => undefined) {
  const holder = {} as { t: ReturnType<typeof sqliteDb>; s: SqliteStore };
  beforeEach(async () => {
    holder.t = sqliteDb();
    holder.s = holder.t.open();
    await setup(holder.s);
  });
  afterEach(async () => {
    await holder.t.close();
  });
  return holder;
}

export const count = (s: SqliteStore, sql: string, ...params: unknown[]) =>
  s.db
    .prepare(sql)
    .pluck()
    .get(...params) as number;

/** Drops the append-only triggers, as someone with write access to the file can (they are a guardrail, not evidence). */
export function dropAuditTriggers(s: SqliteStore): void {
  s.db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
}

export const auditRow = (s: SqliteStore, seq: number) => s.db.prepare('SELECT * FROM audit_events WHERE seq = ?').get(seq) as Record<string, unknown>;

/** A CHECK clause with white space folded and its IN lists sorted, so equal constraints compare equal however written. */
function normalCheck(clause: string): string {
  return clause
    .replace(/\s+/g, ' ')
    .replace(/\( /g, '(')
    .replace(/ \)/g, ')')
    .replace(/IN \(('[^']*'(?:, '[^']*')*)\)/g, (_, list: string) => `IN (${list.split(', ').sort().join(', ')})`);
}

/** Every CHECK clause of a CREATE TABLE statement (comments removed, parentheses balanced). */
function checksOf(sql: string): string[] {
  const text = sql.replace(/--[^\n]*/g, '');
  const out: string[] = [];
  for (let at = text.indexOf('CHECK ('); at >= 0; at = text.indexOf('CHECK (', at + 1)) {
    let depth = 0;
    let end = at + 6;
    do {
      depth += text[end] === '(' ? 1 : text[end] === ')' ? -1 : 0;
      end++;
    } while (depth > 0 && end < text.length);
    out.push(normalCheck(text.slice(at, end)));
  }
  return out.sort();
}

/**
 * What makes two schemas the same for the code that uses them: the objects, each table's columns (by name:
 * ALTER TABLE appends, so only the order may differ), CHECK, UNIQUE and foreign key constraints, STRICT and
 * AUTOINCREMENT, and the SQL of every index and trigger.
 */
export function schemaShape(db: Database.Database) {
  const objects = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all() as {
    type: string;
    name: string;
    tbl_name: string;
    sql: string | null;
  }[];
  const tables = objects.filter((o) => o.type === 'table' && !o.name.startsWith('emails_fts')).map((o) => o.name);
  return {
    objects: objects.map((o) => `${o.type}:${o.name} on ${o.tbl_name}`),
    tables: Object.fromEntries(
      tables.map((table) => [
        table,
        {
          columns: db.prepare('SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?) ORDER BY name').all(table),
          checks: checksOf(objects.find((o) => o.name === table)!.sql!),
          foreign_keys: db.prepare('SELECT "from", "table", "to" FROM pragma_foreign_key_list(?) ORDER BY "from"').all(table),
          strict: db.prepare("SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = ?").pluck().get(table),
          autoincrement: /AUTOINCREMENT/i.test(objects.find((o) => o.name === table)!.sql!),
          // PRIMARY KEY and UNIQUE constraints, by the columns they cover (their automatic index names may differ).
          unique: (
            db
              .prepare(`SELECT origin || ':' || (SELECT group_concat(name) FROM pragma_index_info(l.name)) FROM pragma_index_list(?) l
                           WHERE origin IN ('pk', 'u')`)
              .pluck()
              .all(table) as string[]
          ).sort(),
        },
      ]),
    ),
    sql: objects.filter((o) => o.type === 'index' || o.type === 'trigger').map((o) => `${o.name}: ${(o.sql ?? '').replace(/\s+/g, ' ')}`),
  };
}

/** The schema version a database file records. */
export const schemaVersionOf = (db: Database.Database) => db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().all();

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Transpiles src/ into plain ESM under `outDir` (with schema.sql and a node_modules link), so worker threads,
 * which vitest does not transform, can run the real store code in parallel with true lock contention.
 * Returns the file URL prefix of the transpiled src/.
 */
export function transpileSrc(outDir: string): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
  for (const file of walk(join(ROOT, 'src'))) {
    const out = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    const js = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    writeFileSync(out, js);
  }
  writeFileSync(join(outDir, 'schema.sql'), readFileSync(join(ROOT, 'schema.sql')));
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}');
  symlinkSync(join(ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  return `file://${join(outDir, 'src')}/`;
}
