/**
 * `mailgate serve` loads only what the MCP handshake needs (issue 14: cold start to tools/list): the IMAP,
 * MIME-parsing, SMTP, PostgreSQL, dashboard and HTTP libraries load on first use. A module-load hook in the
 * spawned server records every module it loads until tools/list has been answered; the CLI is the shipped bundle,
 * so a loaded chunk stands for the packages dist/bundle/chunks.json (written by the build) says it holds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, CLI, childEnv, ROOT } from './harness.js';

const tmp = tempDir('mailgate-e2e-startup-modules-');
afterAll(() => tmp.cleanup());
beforeAll(() => assertBuilt());

/**
 * Packages a stdio server for an agent must not load before its first tool call needs them: the mail, database
 * server, dashboard and HTTP libraries, the HTML-to-text pass's (src/text/html-libs.ts) and the link finder of the
 * thread-change check (src/gate/thread-changes.ts), Ajv (src/mcp/lazy-validator.ts) and the SDK's zod 3 converter
 * (left out of the bundle: rolldown.config.mjs).
 */
const LAZY = [
  'imapflow',
  'mailparser',
  'nodemailer',
  'pg',
  'sanitize-html',
  'hono',
  '@hono/node-server',
  'html-to-text',
  'css-select',
  'postcss',
  'postcss-safe-parser',
  'linkify-it',
  'htmlparser2',
  'ajv',
  'zod-to-json-schema',
  'tlds',
];

/** The npm packages behind the loaded URLs: a bundle chunk's from chunks.json, a file under node_modules its own. */
function packagesLoaded(urls: readonly string[]): Set<string> {
  const bundle = join(ROOT, 'dist/bundle');
  const chunks = JSON.parse(readFileSync(join(bundle, 'chunks.json'), 'utf8')) as Record<string, { packages: string[] }>;
  const out = new Set<string>();
  for (const url of urls) {
    const path = url.startsWith('file://') ? new URL(url).pathname : url;
    if (path.startsWith(`${bundle}/`)) {
      const chunk = chunks[path.slice(bundle.length + 1)];
      if (!chunk) throw new Error(`${path} is not in dist/bundle/chunks.json: rebuild (npm run build)`);
      for (const p of chunk.packages) out.add(p);
    }
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (m) out.add(m[1]!);
  }
  return out;
}

describe('serve start-up', () => {
  it('answers tools/list without loading the mail, database-server, dashboard or HTTP libraries', async () => {
    const loaded = tmp.file('loaded.txt');
    writeFileSync(loaded, '');
    // Registered by --import: the ESM hook runs on the loader's thread and appends each module's URL as it loads;
    // require() (createRequire: tlds, the HTML libraries) does not pass through it on Node 20, so Module._load is
    // wrapped on the main thread to append each file it resolves.
    const hook = tmp.file('hook.mjs');
    const body = `import { appendFileSync } from 'node:fs';\nexport async function load(url, ctx, next) { appendFileSync(${JSON.stringify(loaded)}, url + '\\n'); return next(url, ctx); }\n`;
    const cjs = [
      "import Module from 'node:module';",
      "import { appendFileSync } from 'node:fs';",
      'const load = Module._load;',
      'Module._load = function (request, parent, isMain) {',
      `  try { appendFileSync(${JSON.stringify(loaded)}, Module._resolveFilename(request, parent, isMain) + '\\n'); } catch {}`,
      '  return load.apply(this, arguments);',
      '};',
    ].join('\n');
    writeFileSync(hook, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(body)}));\n${cjs}\n`);
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', hook, CLI, 'serve', '--role', 'agent', '--db', tmp.file('s.db')],
      cwd: ROOT,
      stderr: 'pipe',
      env: childEnv(tmp.path, { MAILGATE_LOG_LEVEL: 'warn' }),
    });
    const client = new Client({ name: 'startup-modules', version: '1' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('check_inbox');
      const packages = packagesLoaded(readFileSync(loaded, 'utf8').split('\n').filter(Boolean));
      // The hook does see npm packages (the MCP SDK and zod are needed, and loaded; better-sqlite3 from node_modules).
      expect([...packages]).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'zod', 'better-sqlite3', 'mailgate']));
      expect(LAZY.filter((pkg) => packages.has(pkg))).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
