/**
 * Database faults reach people as catalogued errors naming the file and the fix, never as INTERNAL and never
 * with a stack trace on stdout: through the spawned CLI (message on stderr, exit code 3 or 4) and through a
 * tool call of a spawned `mailgate serve` over the SDK's stdio client.
 *
 * The full disk and the read-only directory are real: a small tmpfs mounted for the test (root only; the
 * tests that need one are skipped, with the reason, where mounting is not allowed).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { addMailbox, holdMany, ALICE } from '../store/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, runCli, STACK_LINE, startServer, textOf } from './harness.js';

const tmp = tempDir('mailgate-e2e-store-faults-');
const home = tmp.path;
const mounts: string[] = [];

function tryMount(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    mounts.push(dir);
    return true;
  } catch {
    return false;
  }
}
const canMount = tryMount(tmp.file('probe'), '64k');
if (!canMount) {
  // Like the mail-server tests: skipped loudly where mounting is not allowed (not root), and never in CI.
  const text = '\n!! SKIPPING the full-disk and read-only store tests: mounting a tmpfs is not allowed here (run as root).\n';
  if (process.env.CI && !process.env.MAILGATE_ALLOW_SKIP) throw new Error(`CI may not skip the store fault tests (MAILGATE_ALLOW_SKIP=1 allows it):${text}`);
  process.stderr.write(text);
}

beforeAll(() => assertBuilt());
afterAll(async () => {
  await closeAll();
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m], { stdio: 'ignore' });
  tmp.cleanup();
});

/** A fresh database made by the CLI itself. */
async function freshDb(path: string): Promise<void> {
  const r = await runCli(['mailbox', 'list', '--db', path], { home });
  expect(r.code, r.stderr).toBe(0);
}

async function expectCliRefusal(args: string[], code: string, path: string, exit: number): Promise<void> {
  const r = await runCli(args, { home });
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stderr).toContain(`mailgate: ${code}: `);
  expect(r.stderr).toContain(path);
  expect(r.stderr).not.toMatch(/INTERNAL/);
  expect(r.stderr).not.toMatch(STACK_LINE);
  expect(r.stdout).toBe('');
}

describe('a database that cannot be used at all', () => {
  it('a foreign (non-SQLite) file: STORE_NOT_DATABASE, exit 3, from a command and from serve', async () => {
    const path = tmp.file('foreign.db');
    writeFileSync(path, 'PK\u0003\u0004 this is a zip archive, not a database\n'.repeat(200));
    await expectCliRefusal(['pending', '--db', path], 'STORE_NOT_DATABASE', path, 3);
    await expectCliRefusal(['serve', '--db', path], 'STORE_NOT_DATABASE', path, 3);
  });

  it('a database from a newer mailgate (schema_version 99): STORE_TOO_NEW, untouched', async () => {
    const path = tmp.file('newer.db');
    await freshDb(path);
    const raw = new Database(path);
    raw.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
    raw.close();
    await expectCliRefusal(['mailbox', 'list', '--db', path], 'STORE_TOO_NEW', path, 3);
    await expectCliRefusal(['serve', '--role', 'reviewer', '--db', path], 'STORE_TOO_NEW', path, 3);
    const after = new Database(path, { readonly: true });
    expect(after.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe('99');
    after.close();
  });

  it('a file damaged on disk: STORE_CORRUPT at open, exit 3', async () => {
    const path = tmp.file('damaged.db');
    await freshDb(path);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(4096 * 8, 0xa5), 0, 4096 * 8, 4096); // every page after the first one
    closeSync(fd);
    await expectCliRefusal(['audit', '--db', path], 'STORE_CORRUPT', path, 3);
  });

  it.skipIf(!canMount)('a read-only filesystem (tmpfs remounted ro): STORE_CANNOT_OPEN, exit 3', async () => {
    const dir = tmp.file('ro');
    expect(tryMount(dir, '4m')).toBe(true);
    const path = `${dir}/mailgate.db`;
    await freshDb(path);
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    const r = await runCli(['mailbox', 'list', '--db', path], { home });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/mailgate: STORE_(CANNOT_OPEN|READ_ONLY): /);
    expect(r.stderr).toContain(path);
    expect(r.stderr).toMatch(/writable/);
    expect(r.stdout).toBe('');
  });
});

describe('faults while a server is running', () => {
  it('damaged pages read by a tool: STORE_CORRUPT in the tool result, naming the file; the server keeps serving', async () => {
    const path = tmp.file('pages.db');
    const s = new SqliteStore(path);
    await addMailbox(s, ALICE, 'gated_send');
    // Rows big enough to fill many table pages, due long after the test, so no sweep at startup reads them.
    await holdMany(s, ALICE, 60, Date.now(), { text: 'x'.repeat(3000) });
    const leaves = s.db.prepare("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf'").pluck().all() as number[];
    const pageSize = s.db.pragma('page_size', { simple: true }) as number;
    await s.close();
    expect(leaves.length).toBeGreaterThan(10);
    const fd = openSync(path, 'r+');
    for (const p of leaves) writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (p - 1) * pageSize);
    closeSync(fd);

    const reviewer = await startServer({ role: 'reviewer', db: path, home });
    const r = await reviewer.call('list_pending', {});
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toMatch(/^STORE_CORRUPT: the database .* is damaged/);
    expect(textOf(r)).toContain(path);
    expect(textOf(r)).toMatch(/backup/);
    // Still answering: a read that does not touch the damaged pages (the audit log) works.
    const next = await reviewer.call('get_audit', { limit: 5 });
    expect(next.isError, textOf(next)).toBeFalsy();
    await reviewer.close();
  });

  it.skipIf(!canMount)('a full disk: STORE_FULL for the tool call and the CLI (exit 4); space freed, both work again', async () => {
    const dir = tmp.file('full');
    expect(tryMount(dir, '2m')).toBe(true);
    const path = `${dir}/mailgate.db`;
    const agent = await startServer({ role: 'agent', db: path, home });
    // Fill the rest of the filesystem.
    const filler = `${dir}/filler`;
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      closeSync(fd);
    }
    const send = { mailbox: 'agent@mailgate.test', to: 'bob@example.com', subject: 'disk full', text: 'x'.repeat(20_000) };
    const r = await agent.call('send_email', send);
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toMatch(/^STORE_FULL \(retryable\): the database .* cannot grow: the disk .* is full/);
    expect(textOf(r)).toContain(path);
    expect(textOf(r)).not.toMatch(STACK_LINE);

    const cli = await runCli(['mailbox', 'create', 'new@corp.example', '--db', path], { home });
    expect(cli.code, cli.stderr).toBe(4);
    expect(cli.stderr).toMatch(/mailgate: STORE_(FULL|CANNOT_OPEN): /);
    expect(cli.stderr).toContain(path);
    expect(cli.stdout).toBe('');

    rmSync(filler);
    const again = await agent.call('send_email', send);
    expect(again.isError, textOf(again)).toBeFalsy();
    expect((await runCli(['mailbox', 'create', 'new@corp.example', '--db', path], { home })).code).toBe(0);
    await agent.close();
  });
});
