/**
 * Docs run for HTTP: `npm start` (as the README shows it) prints the MCP URL and, on first run, the tokens;
 * examples/http-client.mjs then works with the printed agent token; a second start prints no token.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, childEnv, ROOT, runCli, waitFor } from '../e2e/harness.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('mailgate-docs-http-');
const db = tmp.file('start.db');
const started: ChildProcess[] = [];

/** `npm start -- --port 0 --db DB` in its own process group, so stopping it stops npm's child too. */
async function npmStart(): Promise<{ out: () => string; stop: () => Promise<void> }> {
  const child = spawn('npm', ['start', '--silent', '--', '--port', '0', '--db', db], {
    cwd: ROOT,
    env: childEnv(tmp.path),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(() => /MCP \(Streamable HTTP\): \S+/.test(out), 20_000, `npm start to print its URL:\n${out}`);
  return {
    out: () => out,
    async stop() {
      process.kill(-child.pid!, 'SIGTERM');
      await exited;
    },
  };
}

beforeAll(() => assertBuilt());
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) process.kill(-c.pid!, 'SIGKILL');
  tmp.cleanup();
});

describe('npm start and examples/http-client.mjs', () => {
  it('first run prints the URL and an agent and a reviewer token; the example sends a held mail with the agent token', async () => {
    const s = await npmStart();
    try {
      const out = s.out();
      const url = /MCP \(Streamable HTTP\): (\S+)/.exec(out)![1]!;
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect(out).toContain(`Review dashboard:      ${url.replace(/mcp$/, '')}`);
      const agent = /agent\s+\(for your MCP client\):\s+(mgt_\S+)/.exec(out)?.[1];
      const reviewer = /reviewer \(for the person who approves, e.g. in the dashboard\):\s+(mgt_\S+)/.exec(out)?.[1];
      expect(agent).toBeTruthy();
      expect(reviewer).toBeTruthy();
      expect(out).toContain(`claude mcp add --transport http mailgate ${url} --header "Authorization: Bearer ${agent}"`);

      const { stdout } = await promisify(execFile)(process.execPath, [`${ROOT}/examples/http-client.mjs`], {
        env: { ...process.env, MAILGATE_URL: url, MAILGATE_TOKEN: agent },
      });
      expect(stdout).toMatch(/^tools: send_email, reply_email/m);
      expect(stdout).not.toMatch(/queue_approve/);
      expect(stdout).toMatch(/send_email: \{"message_id":"msg_\w+","status":"pending"/);
    } finally {
      await s.stop();
    }
    const tokens = await runCli(['token', 'list', '--json', '--db', db], { home: tmp.path });
    expect((JSON.parse(tokens.stdout) as { tokens: { name: string; roles: string[] }[] }).tokens.map((t) => `${t.name}:${t.roles.join('+')}`)).toEqual([
      'first-run-agent:agent',
      'first-run-reviewer:reviewer',
    ]);
  });

  it('a later start creates and prints no token', async () => {
    const s = await npmStart();
    await s.stop();
    expect(s.out()).not.toMatch(/mgt_/);
  });

  it('the README documents the printed command and the endpoints', () => {
    const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
    expect(readme).toContain('claude mcp add --transport http mailgate http://127.0.0.1:7464/mcp --header "Authorization: Bearer mgt_..."');
    expect(readme).toContain('examples/http-client.mjs');
  });
});
