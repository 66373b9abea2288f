/**
 * The shipped bundle answers tools/list from JSON Schemas computed at build time (rolldown.config.mjs writes them
 * into src/mcp/tool-schemas.ts), where the in-process server converts the zod shapes itself. Both must give what
 * the SDK's own tools/list gave: test/docs/readme.test.ts holds the in-process answer to a snapshot, and this holds
 * the bundle's, for every role, to the same file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '../../src/values.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, ROOT, startServer } from './harness.js';

const tmp = tempDir('mailgate-e2e-bundle-tools-');
beforeAll(() => assertBuilt());
afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

const snapshot = JSON.parse(readFileSync(join(ROOT, 'test/docs/__snapshots__/tools-list.json'), 'utf8')) as Record<string, unknown[]>;

describe('tools/list from the bundle', () => {
  it('carries the schemas computed at build time (so the comparison below tests them, not a runtime conversion)', () => {
    const dir = join(ROOT, 'dist/bundle/chunks');
    const withSchemas = readdirSync(dir).filter((f) => readFileSync(join(dir, f), 'utf8').includes('const BUILT = "{'));
    expect(withSchemas).toHaveLength(1);
  });

  for (const role of ROLES) {
    it(`lists for ${role} exactly what the SDK's own tools/list gave (the snapshot)`, async () => {
      const server = await startServer({ role, db: tmp.file(`${role}.db`), home: tmp.path });
      const { tools } = await server.client.listTools();
      expect(JSON.parse(JSON.stringify(tools))).toEqual(snapshot[role]);
      await server.close();
    });
  }
});
