/**
 * The layering rules (.dependency-cruiser.cjs, run by `npm test` as lint:deps) refuse each edge issue 10 found,
 * should one come back: a copy of src/ and tools/ with those imports put back must fail the check, naming the rule.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';

const root = resolve(import.meta.dirname, '../..');
const tmp = tempDir('mailgate-layering-');
afterAll(() => tmp.cleanup());

/** Each edge of the issue, as the import that made it, and the rule that must now refuse it. */
const EDGES: { file: string; line: string; rule: string }[] = [
  { file: 'src/dashboard/pages.ts', line: "import '../../tools/shapes.js';", rule: 'tools-only-from-composition-root' },
  { file: 'src/cli/commands.ts', line: "import '../../tools/shapes.js';", rule: 'tools-only-from-composition-root' },
  { file: 'src/webhooks/dispatcher.ts', line: "import '../services/deliver.js';", rule: 'webhooks-below-services' },
  { file: 'src/services/deliver.ts', line: "import '../domain/message-ops.js';", rule: 'services-use-the-store-interface' },
  { file: 'src/store/messages.ts', line: "import '../domain/message-ops.js';", rule: 'store-below-services' },
  { file: 'src/domain/message-ops.ts', line: "import '../services/scope.js';", rule: 'domain-below-services' },
  { file: 'src/domain/delivery-rules.ts', line: "import '../store/sql/sqlite-driver.js';", rule: 'rules-are-backend-neutral' },
  { file: 'src/domain/action-rules.ts', line: "import 'pg';", rule: 'rules-are-backend-neutral' },
  { file: 'src/cli/policy.ts', line: "import '../store/personal-data.js';", rule: 'interfaces-through-services' },
  { file: 'src/webhooks/events.ts', line: "import type { OutboundMessage } from '../store/messages.js';", rule: 'webhook-payloads-are-pure' },
  { file: 'src/store/personal-data.ts', line: "import './audit.js';", rule: 'no-circular' },
  { file: 'tools/shapes.ts', line: "import '../src/store/db.js';", rule: 'tools-are-thin' },
  { file: 'src/gate/evaluate.ts', line: "import '../store/db.js';", rule: 'gate-is-pure' },
  { file: 'src/gate/evaluate.ts', line: "import 'node:fs';", rule: 'gate-no-io' },
  { file: 'src/mail/compose.ts', line: "import '../domain/sqlite-store.js';", rule: 'mail-adapters-return-values' },
  { file: 'src/store/audit.ts', line: "import '../services/scope.js';", rule: 'store-below-services' },
];

async function depcruise(cwd: string): Promise<{ code: number; out: string }> {
  const bin = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  try {
    const r = await promisify(execFile)(process.execPath, [bin, 'src', 'tools', '--config', '.dependency-cruiser.cjs'], { cwd, maxBuffer: 16 << 20 });
    return { code: 0, out: r.stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: `${e.stdout}${e.stderr}` };
  }
}

describe('the layering check', () => {
  it('fails on each edge the layering forbids, naming its rule', async () => {
    for (const name of ['src', 'tools']) cpSync(join(root, name), join(tmp.path, name), { recursive: true });
    for (const name of ['tsconfig.json', '.dependency-cruiser.cjs', 'package.json']) cpSync(join(root, name), join(tmp.path, name));
    symlinkSync(join(root, 'node_modules'), join(tmp.path, 'node_modules'));
    for (const e of EDGES) appendFileSync(join(tmp.path, e.file), `\n${e.line}\n`);
    const r = await depcruise(tmp.path);
    expect(r.code).not.toBe(0);
    for (const e of EDGES) {
      const from = e.file.replace(/\./g, '\\.');
      expect(r.out, `${e.file}: ${e.line}`).toMatch(new RegExp(`error ${e.rule}: ${e.rule === 'no-circular' ? '' : from}`));
    }
  }, 120_000);

  it('is what npm test runs', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['lint:deps']).toContain('.dependency-cruiser.cjs');
    expect(pkg.scripts.test).toContain('npm run lint:deps');
  });
});
