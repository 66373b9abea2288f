/**
 * The `postgres` vitest project's setup file, run before each test file: one private PostgreSQL cluster for the
 * file (started before its tests, stopped after), and a fresh database from the migrated template ready before
 * every hook and test (backend.ts hands it out). Registered here rather than in each file, so every conformance
 * file runs on PostgreSQL without knowing it.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type Postgres, startPostgres } from '../../helpers/postgres.js';
import { keepSpareDatabase, preparePostgres, releasePostgres } from '../backend.js';

let cluster: Postgres | undefined;

beforeAll(async () => {
  cluster = await startPostgres();
  await preparePostgres(cluster);
  await keepSpareDatabase();
});

// After each test (for a describe's beforeAll that follows) and before each (a file's beforeAll took the first).
afterEach(() => keepSpareDatabase());
beforeEach(() => keepSpareDatabase());

afterAll(async () => {
  await releasePostgres();
  await cluster?.stop();
});
