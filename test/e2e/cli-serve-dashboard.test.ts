/**
 * `serve --dashboard --port N` (issue 12): the dashboard listens on the port asked for, its URL is named on
 * stderr, and stdout, the MCP channel under a client, carries only JSON-RPC. A bad or lone --port is refused
 * before any database is created.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, CLI, childEnv, ROOT, runCli, waitFor } from './harness.js';
import { unusedPort } from './smtp-harness.js';

const tmp = tempDir('mailgate-e2e-cli-dashboard-');
const home = tmp.path;

beforeAll(() => assertBuilt());
afterAll(() => tmp.cleanup());

describe('serve --dashboard --port', () => {
  it('listens on that port, names the URL on stderr, and keeps stdout to JSON-RPC', async () => {
    const port = await unusedPort();
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'serve', '--dashboard', '--port', String(port), '--db', tmp.file('dash.db')],
      cwd: ROOT,
      stderr: 'pipe',
      env: childEnv(home),
    });
    let err = '';
    transport.stderr?.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const client = new Client({ name: 'e2e-dashboard', version: '1.0.0' });
    // A line on stdout that is not JSON-RPC would break this handshake or the call after it.
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
      const url = `http://127.0.0.1:${port}/`;
      await waitFor(() => err.includes(`review dashboard at ${url}`), 5000, 'the dashboard URL on stderr');
      const page = await fetch(`${url}login`);
      expect(page.status).toBe(200);
    } finally {
      await client.close();
    }
  });

  it.each([
    ['--port without --dashboard', ['serve', '--port', '7999'], /--port: over stdio, --port is the review dashboard's port; add --dashboard/],
    ['a port that is not one', ['serve', '--dashboard', '--port', 'http'], /--port: 'http' is not a port/],
  ])('%s: exit 2 before any database exists', async (_name, args, message) => {
    const db = tmp.file(`refused-${args.length}.db`);
    const r = await runCli([...args, '--db', db], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(existsSync(db)).toBe(false);
  });

  it('a port in use: exit 2 naming --port', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = await runCli(['serve', '--dashboard', '--port', String(port), '--db', tmp.file('busy.db')], { home });
      expect(r.stderr).toContain(`--port: cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(r.code).toBe(2);
    } finally {
      busy.close();
    }
  });
});
