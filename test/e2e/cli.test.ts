/**
 * The mailgate command line as a user runs it: exit codes, output, and what it writes to the audit log.
 * Exit codes: 0 success, 2 invalid input or configuration, 1 anything else.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, CLI, childEnv, closeAll, ok, ROOT, runCli, startServer, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-cli-');
const db = tmp.file('cli.db');
const home = tmp.path;
const cli = (...args: string[]) => runCli([...args, '--db', db], { home });

interface AuditJson {
  events: { action: string; actor: string; mailbox: string | null; detail: Record<string, unknown> }[];
}

beforeAll(() => assertBuilt());

afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

describe.concurrent('commands without a database', () => {
  it('help exits 0 and lists the commands', async () => {
    const r = await runCli(['help'], { home });
    expect(r.code).toBe(0);
    for (const c of ['serve', 'demo', 'mailbox list', 'mailbox create', 'mailbox update', 'pending', 'approve', 'reject', 'audit', 'captured']) {
      expect(r.stdout).toContain(c);
    }
    expect(r.stderr).toBe('');
  });

  // With stdin a pipe, no subcommand is `serve` (how MCP clients launch it: test/e2e/package.test.ts); a person
  // at a terminal gets the help. util-linux `script` gives the command a pseudo-terminal.
  it('no subcommand on a terminal prints the help and opens no database', async () => {
    const own = tmp.file('tty-home');
    mkdirSync(own);
    const { stdout } = await promisify(execFile)('script', ['-qec', `${process.execPath} ${CLI}`, '/dev/null'], {
      cwd: ROOT,
      env: childEnv(own),
      timeout: 15_000,
    });
    expect(stdout).toContain('Usage: mailgate <command> [options]');
    expect(stdout).toContain('mailbox create');
    expect(existsSync(join(own, '.mailgate'))).toBe(false);
  });

  it('demo exits 0 and shows a held send approved and delivered', async () => {
    const r = await runCli(['demo'], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('status pending');
    expect(r.stdout).toContain('status sent');
    expect(r.stdout).toMatch(/mail_wait sees rejected: off-brand/);
    expect(r.stdout).toMatch(/chain verified/);
  });

  it('an unknown flag exits 2 and names it', async () => {
    const r = await runCli(['pending', '--bogus'], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--bogus');
    expect(r.stdout).toBe('');
  });

  it('an unknown command exits 2', async () => {
    const r = await runCli(['frobnicate', '--db', tmp.file('unused.db')], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('mailboxes', () => {
  it('mailbox list --json shows the built-in sandbox pair', async () => {
    const r = await cli('mailbox', 'list', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { mailboxes } = JSON.parse(r.stdout) as { mailboxes: { address: string; oversight_mode: string }[] };
    expect(mailboxes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ address: 'agent@mailgate.test', oversight_mode: 'gated_send' }),
        expect.objectContaining({ address: 'you@mailgate.test', oversight_mode: 'autonomous' }),
      ]),
    );
  });

  it('create, update with --reason (audited as mailbox.mode_changed), update without --reason refused', async () => {
    const created = await cli('mailbox', 'create', 'x@y.test', '--mode', 'monitored', '--as', 'carol');
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toContain('created x@y.test (monitored');

    const dup = await cli('mailbox', 'create', 'x@y.test', '--mode', 'monitored');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('MAILBOX_EXISTS');

    const noReason = await cli('mailbox', 'update', 'x@y.test', '--mode', 'read_only');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');

    const updated = await cli('mailbox', 'update', 'x@y.test', '--mode', 'autonomous', '--reason', 'r', '--as', 'carol');
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.stdout).toMatch(/updated x@y\.test: .*oversight_mode.*now autonomous/);

    const list = JSON.parse((await cli('mailbox', 'list', '--json')).stdout) as { mailboxes: { address: string; oversight_mode: string }[] };
    expect(list.mailboxes.find((m) => m.address === 'x@y.test')?.oversight_mode).toBe('autonomous');

    const audit = await cli('audit', '--mailbox', 'x@y.test', '--json');
    expect(audit.code, audit.stderr).toBe(0);
    const events = (JSON.parse(audit.stdout) as AuditJson).events;
    expect(events.map((e) => e.action)).toEqual(['mailbox.created', 'mailbox.mode_changed']);
    expect(events[1]).toMatchObject({
      actor: 'cli:carol',
      detail: { reason: 'r', changes: { oversight_mode: { from: 'monitored', to: 'autonomous' } } },
    });
  });
});

describe('the approval queue from the CLI', () => {
  let held = '';

  beforeAll(async () => {
    // One held message, made by a real agent server on the same database.
    const agent = await startServer({ role: 'agent', db, home });
    held = ok<{ message_id: string }>(
      await agent.call('send_email', { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'CLI queue', text: 'x' }),
    ).message_id;
    await agent.close();
  });

  it('pending --json lists the held message', async () => {
    const r = await cli('pending', '--json');
    expect(r.code, r.stderr).toBe(0);
    const page = JSON.parse(r.stdout) as { messages: { message_id: string; subject: string; to: string[] }[]; next_cursor: string | null };
    expect(page.messages).toEqual([expect.objectContaining({ message_id: held, subject: 'CLI queue', to: ['you@mailgate.test'] })]);
    expect(page.next_cursor).toBeNull();
  });

  it('reject without --reason exits 2 and the message stays pending', async () => {
    const r = await cli('reject', held);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--reason');
    const blank = await cli('reject', held, '--reason', '   ');
    expect(blank.code).toBe(2);
    const page = JSON.parse((await cli('pending', '--json')).stdout) as { messages: { message_id: string }[] };
    expect(page.messages.map((m) => m.message_id)).toEqual([held]);
  });

  it('approve of an unknown id exits non-zero with UNKNOWN_MESSAGE', async () => {
    const r = await cli('approve', 'msg_AAAAAAAAAAAAAAAAAAAA');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('UNKNOWN_MESSAGE');
  });

  it('approve --json delivers inline and reports sent', async () => {
    const r = await cli('approve', held, '--json', '--as', 'dave');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ message_id: held, status: 'sent', decided_by: 'cli:dave' });
    expect(JSON.parse((await cli('pending', '--json')).stdout)).toMatchObject({ messages: [] });
  });

  it('audit verify exits 0 and prints ok', async () => {
    const r = await cli('audit', 'verify');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/audit chain ok: \d+ events/);
    const json = await cli('audit', 'verify', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true });
  });
});

describe.concurrent('an invalid config file stops every command with exit 2', () => {
  const unknownKey = writeConfig(tmp.file('unknown-key.json'), {
    mailboxes: [{ address: 'a@mailgate.test', oversight_mode: 'gated_send', oversight_mod: 'autonomous' }],
  });
  const badMode = writeConfig(tmp.file('bad-mode.json'), { mailboxes: [{ address: 'a@mailgate.test', oversight_mode: 'yolo' }] });
  const topLevel = writeConfig(tmp.file('top-level.json'), { require_aproval: true, mailboxes: [] });
  const cases: [string, string, RegExp][] = [
    ['unknown mailbox key', unknownKey, /mailboxes\[0\].*oversight_mod\b/],
    ['bad mode', badMode, /mailboxes\[0\]\.oversight_mode/],
    ['unknown top-level key', topLevel, /require_aproval/],
  ];
  for (const [what, file, names] of cases) {
    for (const command of ['serve', 'pending']) {
      it(`${command}: ${what}`, async () => {
        const r = await runCli([command, '--config', file, '--db', tmp.file(`cfg-${command}.db`)], { home, timeoutMs: 10_000 });
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/CONFIG_INVALID/);
        expect(r.stderr).toMatch(names);
        expect(r.stdout).toBe('');
      });
    }
  }

  it('a missing config file exits 2 and names the path', async () => {
    const r = await runCli(['pending', '--config', tmp.file('nope.json'), '--db', db], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.json');
  });

  it('an unknown --role exits 2', async () => {
    const r = await runCli(['serve', '--role', 'admin', '--db', tmp.file('role.db')], { home, timeoutMs: 10_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--role.*agent, reviewer, operator/);
  });
});
