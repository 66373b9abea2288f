import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Native better-sqlite3 and spawned servers: separate processes keep each file's state its own.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { MAILGATE_LOG_LEVEL: 'warn' },
  },
});
