/** `mailgate serve --dashboard`: a stdio MCP server that also serves the dashboard on 127.0.0.1. */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI } from '../e2e/harness.js';
import { tempDir } from '../helpers/tmp.js';

describe('serve --dashboard', () => {
  const dir = tempDir('mailgate-serve-dashboard-');
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill('SIGTERM');
    dir.cleanup();
  });

  it('prints the dashboard URL on stderr, answers there on 127.0.0.1, and keeps stdout for MCP', async () => {
    child = spawn(process.execPath, [CLI, 'serve', '--dashboard', '--role', 'agent', '--db', dir.file('mailgate.db')], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`no dashboard URL on stderr:\n${err}`)), 15_000);
      child!.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /review dashboard at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
    });
    const login = await fetch(`${url}login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('Sign in to review mail');
    const queue = await fetch(`${url}queue`, { redirect: 'manual' });
    expect([queue.status, queue.headers.get('location')]).toEqual([303, '/login']);
    // A request naming another host (DNS rebinding) is not served.
    // (fetch may not set Host, so node:http.)
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(`${url}login`, { headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(421);
    expect(stdout).toBe('');
  });
});
