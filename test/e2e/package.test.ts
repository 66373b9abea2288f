/**
 * The package as a user gets it: `npm pack` the built tree, install the tarball into an empty folder, and launch
 * it the way MCP clients do (`npx mailgate`, no subcommand, stdin a pipe) through the SDK's stdio client.
 *
 * npm runs offline: the dependencies come from the npm cache that `npm ci` filled, pinned by a lockfile made from
 * this repository's package-lock.json (the cache holds tarballs, not the registry metadata a bare
 * `npm install <tarball>` needs to resolve ranges). better-sqlite3's install script would compile SQLite again
 * (about 55 s here, as no prebuilt binary can be downloaded offline), so scripts are skipped and the binary this
 * checkout compiled for the same better-sqlite3 version and Node is copied in, as a prebuilt one would be.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, childEnv, ok, ROOT } from './harness.js';

const tmp = tempDir('mailgate-e2e-package-');
const app = join(tmp.path, 'app');
const home = join(tmp.path, 'home');
let tarball = '';
let files: string[] = [];

interface LockEntry {
  dev?: boolean;
  version?: string;
}

/** An npm command with the test's own environment (the real npm cache), never the network. */
function npm(args: string[], cwd: string): string {
  try {
    return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_offline: 'true' } });
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? e);
    if (/ENOTCACHED/.test(stderr)) {
      throw new Error(`npm ${args[0]}: a dependency is not in the npm cache and this test never fetches; run 'npm ci' in ${ROOT} first.\n${stderr}`);
    }
    throw new Error(`npm ${args.join(' ')} failed:\n${stderr}`);
  }
}

/** A package.json and lockfile for a folder that depends only on the tarball, pinned to this checkout's versions. */
function writeConsumer(tgz: string): void {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry & Record<string, unknown>> };
  const own = lock.packages['']!;
  const spec = `file:${tgz}`;
  const consumer = { name: 'mailgate-package-test', private: true, dependencies: { mailgate: spec } };
  const packages: Record<string, unknown> = {
    '': consumer,
    'node_modules/mailgate': { version: own.version, resolved: spec, license: own.license, dependencies: own.dependencies, bin: own.bin, engines: own.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path !== '' && !entry.dev) packages[path] = entry;
  writeFileSync(join(app, 'package.json'), JSON.stringify(consumer, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: consumer.name, lockfileVersion: 3, requires: true, packages }, null, 2));
}

/** The SQLite binary this checkout compiled, for the identical better-sqlite3 the tarball's install resolved. */
function reuseSqliteBinary(): void {
  const version = (dir: string) => (JSON.parse(readFileSync(join(dir, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version;
  expect(version(app)).toBe(version(ROOT));
  const built = join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
  if (!existsSync(built)) throw new Error(`${built} is missing: run 'npm ci' in ${ROOT} first`);
  mkdirSync(join(app, 'node_modules/better-sqlite3/build/Release'), { recursive: true });
  copyFileSync(built, join(app, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node'));
}

beforeAll(() => {
  assertBuilt();
  mkdirSync(app);
  mkdirSync(home);
  // --ignore-scripts: pack the tree as built; `prepare` would rebuild dist/ under the other test files' feet.
  const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp.path], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(tmp.path, packed!.filename);
  files = packed!.files.map((f) => f.path);
  writeConsumer(tarball);
  npm(['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
  reuseSqliteBinary();
}, 60_000);

afterAll(() => tmp.cleanup());

describe('the npm package', () => {
  it('holds only what runs: the bundle (dist/bundle), schema.sql, README.md, LICENSE, package.json', () => {
    const outside = files.filter(
      (f) => !/^dist\/bundle\/(mailgate|chunks\/[\w.-]+)\.js$/.test(f) && !['schema.sql', 'README.md', 'LICENSE', 'package.json'].includes(f),
    );
    expect(outside).toEqual([]);
    expect(files).toContain('dist/bundle/mailgate.js');
    expect(files.filter((f) => f.startsWith('dist/bundle/chunks/')).length).toBeGreaterThan(10);
    expect(files).toContain('schema.sql');
  });

  it('`npx mailgate` with stdin a pipe speaks MCP: the agent tools, and a send that is held', async () => {
    expect(realpathSync(join(app, 'node_modules/.bin/mailgate'))).toBe(join(realpathSync(app), 'node_modules/mailgate/dist/bundle/mailgate.js'));
    const transport = new StdioClientTransport({ command: 'npx', args: ['--no-install', 'mailgate'], cwd: app, stderr: 'pipe', env: childEnv(home) });
    let stderr = '';
    transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const client = new Client({ name: 'package-test', version: '1.0.0' });
    try {
      await client.connect(transport).catch((e: unknown) => {
        throw new Error(`npx mailgate did not answer initialize: ${String(e)}\nstderr:\n${stderr}`);
      });
      expect(client.getServerVersion()?.name).toBe('mailgate');
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toContain('send_email');
      expect(names).not.toContain('queue_approve');
      const sent = (await client.callTool({
        name: 'send_email',
        arguments: { mailbox: 'agent@mailgate.test', to: 'someone@example.com', subject: 'From the tarball', text: 'Hello' },
      })) as CallToolResult;
      expect(ok<{ status: string }>(sent).status).toBe('pending');
    } finally {
      await client.close();
    }
    // The default database, in the (temporary) home of the user the client runs as.
    expect(existsSync(join(home, '.mailgate/mailgate.db'))).toBe(true);
  });
});
