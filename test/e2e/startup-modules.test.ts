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

/**
 * A module-load hook for a spawned server (registered by --import): the ESM hook runs on the loader's thread and
 * appends each module's URL to `loaded` as it loads; require() (createRequire: tlds, the HTML libraries) does not
 * pass through it on Node 20, so Module._load is wrapped on the main thread to append each file it resolves.
 */
function loadHook(loaded: string): string {
  writeFileSync(loaded, '');
  const hook = tmp.file(`hook-${Math.random().toString(36).slice(2)}.mjs`);
  const body = `import { appendFileSync } from 'node:fs';\nexport async function load(url, ctx, next) { appendFileSync(${JSON.stringify(loaded)}, url + '\\n'); return next(url, ctx); }\n`;
  const cjs = [
    "import Module from 'node:module';",
    "import { appendFileSync } from 'node:fs';",
    'const load = Module._load;',
    'Module._load = function (request, parent, isMain) {',
    `  try { appendFileSync(${JSON.stringify(loaded)}, Module._resolveFilename(request, parent, isMain) + '\\n'); } catch {}`,
    '  return load.apply(this, arguments);',
    '};',
    // The line that marks the moment the answer to tools/list went out: what loads after it did not delay it.
    'const write = process.stdout.write.bind(process.stdout);',
    `process.stdout.write = (chunk, ...rest) => { if (String(chunk).includes('"tools":[')) appendFileSync(${JSON.stringify(loaded)}, '${LISTED}\\n'); return write(chunk, ...rest); };`,
  ].join('\n');
  writeFileSync(hook, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(body)}));\n${cjs}\n`);
  return hook;
}

const LISTED = 'TOOLS/LIST ANSWERED';

/** The packages loaded before tools/list was answered, or at any time so far. */
function packagesIn(loaded: string, until: 'listed' | 'now' = 'now'): Set<string> {
  const lines = readFileSync(loaded, 'utf8').split('\n').filter(Boolean);
  const listed = lines.indexOf(LISTED);
  if (until === 'listed' && listed < 0) throw new Error('tools/list has not been answered');
  return packagesLoaded((until === 'listed' ? lines.slice(0, listed) : lines).filter((l) => l !== LISTED));
}

async function startWithHook(name: string, extra: string[], env: Record<string, string> = {}) {
  const loaded = tmp.file(`${name}-loaded.txt`);
  const hook = loadHook(loaded);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', hook, CLI, 'serve', '--role', 'agent', '--db', tmp.file(`${name}.db`), ...extra],
    cwd: ROOT,
    stderr: 'pipe',
    env: childEnv(tmp.path, { MAILGATE_LOG_LEVEL: 'warn', ...env }),
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const client = new Client({ name: 'startup-modules', version: '1' });
  await client.connect(transport);
  return { client, loaded, stderr: () => stderr };
}

describe('serve start-up', () => {
  it('answers tools/list without loading the mail, database-server, dashboard or HTTP libraries', async () => {
    const { client, loaded } = await startWithHook('sandbox', []);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('check_inbox');
      const packages = packagesIn(loaded, 'listed');
      // The hook does see npm packages (the MCP SDK and zod are needed, and loaded; better-sqlite3 from node_modules).
      expect([...packages]).toEqual(expect.arrayContaining(['@modelcontextprotocol/sdk', 'zod', 'better-sqlite3', 'mailgate']));
      expect(LAZY.filter((pkg) => packages.has(pkg))).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('with a real mailbox, gets ready for the first read once tools/list is answered, not before', async () => {
    // An account on a port where nothing listens: nothing gets far (the start-up check is off), but the attempt
    // shows. ImapMailbox.warmUp itself is tested against a real Dovecot (test/mail/first-call-early.test.ts).
    const config = tmp.file('real.json');
    const account = { host: '127.0.0.1', port: 1, user: 'u', password_env: 'MAILBOX_PASSWORD' };
    writeFileSync(config, JSON.stringify({ mailboxes: [{ address: 'u@example.test', oversight_mode: 'gated_send', imap: account, smtp: account }] }));
    const env = { MAILBOX_PASSWORD: 'pw', MAILGATE_NO_STARTUP_CHECK: '1', MAILGATE_LOG_LEVEL: 'debug' };
    const { client, loaded, stderr } = await startWithHook('real', ['--config', config], env);
    const warming = () => stderr().includes('getting ready for the first read');
    try {
      await client.ping();
      expect(warming()).toBe(false);
      await client.listTools();
      await expect.poll(warming, { timeout: 10_000, interval: 20 }).toBe(true);
      expect(['imapflow', 'mailparser'].filter((pkg) => packagesIn(loaded, 'listed').has(pkg))).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
