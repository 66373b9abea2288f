/**
 * What the `mailgate db ...` CLI tests (db-copy, db-status) share: a scratch home, the built CLI run there with
 * every output kept, so a last test can prove none of them held the database password.
 */
import { expect } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { type CliResult, runCli } from './harness.js';

export function dbCli(prefix: string, timeoutMs: number) {
  const tmp = tempDir(prefix);
  const outputs: string[] = [];
  const mg = async (args: string[], env: Record<string, string> = {}): Promise<CliResult> => {
    const r = await runCli(args, { home: tmp.path, env, timeoutMs });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  return { tmp, home: tmp.path, outputs, mg };
}

/** The JSON a successful run printed (no `mailgate:` error line, exit 0). */
export const json = <T = Record<string, unknown>>(r: CliResult): T => {
  expect(r.stderr, r.stderr).not.toContain('mailgate:');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
};

/** None of the outputs (more than `atLeast` of them) held the password, as written or URL-encoded. */
export function expectNoPassword(outputs: readonly string[], password: string, atLeast: number): void {
  expect(outputs.length).toBeGreaterThan(atLeast);
  for (const out of outputs) {
    expect(out).not.toContain(password);
    expect(out).not.toContain(encodeURIComponent(password));
  }
}
