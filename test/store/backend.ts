/**
 * The database a store test runs on. By default a SQLite file in a temp dir, as it always was; under
 * MAILGATE_TEST_BACKEND=postgres (the vitest project `postgres`, which runs test/store/conformance) a fresh
 * database on a private PostgreSQL cluster, one cluster per test file. Tests see only the Store interface either
 * way, so one conformance suite proves both backends keep the same contract.
 *
 * PostgreSQL's side is wired by conformance/postgres-setup.ts (the project's setup file, run for every test file):
 * it starts the cluster, migrates one template database, and has a copy of it ready before every hook and test,
 * so `testDb()` stays synchronous on both backends. The next copy (CREATE DATABASE ... TEMPLATE, ~40 ms) is made
 * while the current test runs, so a test rarely waits for its database. A test that needs a second database at
 * once finds none ready and is told so.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import { SqlStore } from '../../src/domain/sql-store.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { PgDriver } from '../../src/store/sql/pg-driver.js';
import type { Store } from '../../src/store/store.js';
import type { Postgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const BACKEND: 'sqlite' | 'postgres' = process.env.MAILGATE_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite';

export interface TestDb {
  /** The database as --db and MAILGATE_DATABASE_URL take it: the SQLite file, or the PostgreSQL URL (password included). */
  readonly location: string;
  /** A scratch directory for the test's other files (a config file); close() removes it. */
  readonly dir: ReturnType<typeof tempDir>;
  /**
   * Another instance on the same database: a second connection to the SQLite file (another process), or a
   * PgDriver with its own pool (another mailgate server).
   */
  open(): Store;
  /** Closes every instance opened and removes the scratch files (a PostgreSQL database stays until its cluster stops). */
  close(): Promise<void>;
}

/** One fresh, migrated database for this test. */
export function testDb(): TestDb {
  return BACKEND === 'postgres' ? pgTestDb() : sqliteTestDb();
}

/**
 * One fresh database per test, for suites that need nothing more: registers the hooks and returns a holder
 * whose `s` (an instance) and `t` (the database, for more instances) are set before each test.
 */
export function useStore(setup: (s: Store) => Promise<unknown> = async () => undefined) {
  const holder = {} as { t: TestDb; s: Store };
  beforeEach(async () => {
    holder.t = testDb();
    holder.s = holder.t.open();
    await setup(holder.s);
  });
  afterEach(async () => {
    await holder.t.close();
  });
  return holder;
}

function sqliteTestDb(): TestDb {
  const dir = tempDir('mailgate-store-');
  const path = dir.file('mailgate.db');
  const opened: Store[] = [];
  return {
    location: path,
    dir,
    open() {
      const s = new SqliteStore(path);
      opened.push(s);
      return s;
    },
    async close() {
      for (const s of opened) await s.close();
      dir.cleanup();
    },
  };
}

// ---- PostgreSQL: state the setup file fills in ----

let cluster: Postgres | undefined;
let template: string | undefined;
/** The next test's database, made in the background while the current test runs. */
let spare: string | undefined;
let making: Promise<void> | undefined;
let failed: unknown;

const urlOf = (pg: Postgres, database: string) => `postgres://${pg.user}:${encodeURIComponent(pg.password)}@${pg.host}:${pg.port}/${database}`;

/** Called once per test file, after the cluster started: migrates the template every test database is copied from. */
export async function preparePostgres(pg: Postgres): Promise<void> {
  cluster = pg;
  const url = await pg.freshDatabase();
  // PgDriver.open is what a server does at start: the template holds exactly the schema migrations produce.
  await (await PgDriver.open(url)).close();
  template = new URL(url).pathname.slice(1);
}

/** Starts copying the template for the next test, unless a copy is ready or under way. */
function makeSpare(): void {
  if (!cluster || !template || spare || making) return;
  const name = `t_${randomBytes(5).toString('hex')}`;
  // The default WAL_LOG strategy: FILE_COPY forces a checkpoint per copy, which costs more once tests wrote data.
  making = cluster
    .admin(`CREATE DATABASE ${name} TEMPLATE ${template}`)
    .then(
      () => {
        spare = name;
      },
      (err: unknown) => {
        failed = err;
      },
    )
    .finally(() => {
      making = undefined;
    });
}

/** Before every hook and test: waits until the next database is ready, so testDb() can hand it out synchronously. */
export async function keepSpareDatabase(): Promise<void> {
  makeSpare();
  await making;
  if (failed) {
    const err = failed;
    failed = undefined;
    throw err;
  }
}

/** After the file: lets a copy under way finish, so the cluster stops with no statement in flight. */
export async function releasePostgres(): Promise<void> {
  await making;
  cluster = undefined;
  template = undefined;
  spare = undefined;
}

function pgTestDb(): TestDb {
  const pg = cluster;
  const name = spare;
  spare = undefined;
  makeSpare();
  if (!pg || !name) {
    throw new Error(
      pg
        ? 'no fresh PostgreSQL database ready: testDb() may be called once per hook or test (a spare is made before each)'
        : 'no PostgreSQL cluster: MAILGATE_TEST_BACKEND=postgres needs test/store/conformance/postgres-setup.ts as a setup file',
    );
  }
  const dir = tempDir('mailgate-store-');
  const location = urlOf(pg, name);
  const opened: SqlStore[] = [];
  return {
    location,
    dir,
    open() {
      // The constructor only makes the pool; the template is already migrated.
      const s = new SqlStore(new PgDriver(location));
      opened.push(s);
      return s;
    },
    async close() {
      // The database stays until the cluster stops: DROP DATABASE forces a checkpoint, ~30 ms a test.
      await Promise.all(opened.map((s) => s.close()));
      dir.cleanup();
    },
  };
}
