import { defineConfig } from 'vitest/config';
import { requirePostgresOrSkip } from './test/helpers/postgres.js';

const shared = {
  // Native better-sqlite3 and spawned servers: separate processes keep each file's state its own.
  pool: 'forks',
  testTimeout: 30_000,
  hookTimeout: 30_000,
} as const;

export default defineConfig({
  test: {
    projects: [
      // Every test, on SQLite (the default store).
      { test: { ...shared, name: 'sqlite', include: ['test/**/*.test.ts'], env: { MAILGATE_LOG_LEVEL: 'warn' } } },
      // The store conformance suite again, on a private PostgreSQL cluster per file (test/store/backend.ts). Without
      // the server binaries it is left out with a loud warning; under CI that is an error instead.
      ...(requirePostgresOrSkip()
        ? [
            {
              test: {
                ...shared,
                name: 'postgres',
                include: ['test/store/conformance/**/*.test.ts'],
                setupFiles: ['test/store/conformance/postgres-setup.ts'],
                env: { MAILGATE_LOG_LEVEL: 'warn', MAILGATE_TEST_BACKEND: 'postgres' },
              },
            },
          ]
        : []),
    ],
  },
});
