/**
 * The command line as a person at a terminal meets it (issue 12): help for every command, "did you mean" for
 * typos, global options before or after the command, and no database opened (or created) by a command line
 * that is wrong.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS, GLOBAL_OPTIONS } from '../../src/cli/spec.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli } from './harness.js';

const tmp = tempDir('mailgate-e2e-cli-help-');

beforeAll(() => assertBuilt());

/** A fresh HOME per case, so "nothing was created" is about this command line alone. */
function home(name: string): string {
  const dir = tmp.file(name);
  mkdirSync(dir);
  return dir;
}

const longFlag = (flags: string) => /--[\w-]+/.exec(flags)![0];

describe.concurrent('per-command help', () => {
  for (const spec of COMMANDS) {
    it(`mailgate ${spec.path} --help names its arguments and every option, and opens no database`, async () => {
      const h = home(`help-${spec.path.replace(' ', '-')}`);
      const r = await runCli([...spec.path.split(' '), '--help'], { home: h });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain(`Usage: mailgate ${spec.path}`);
      for (const a of spec.args ?? []) expect(r.stdout).toContain(a);
      for (const [flags] of [...(spec.options ?? []), ...GLOBAL_OPTIONS]) expect(r.stdout).toContain(longFlag(flags));
      expect(existsSync(join(h, '.mailgate'))).toBe(false);
    });
  }

  it("'mailgate help <command>' is the same page as '<command> --help'", async () => {
    const h = home('help-command');
    const [a, b] = await Promise.all([runCli(['help', 'mailbox', 'create'], { home: h }), runCli(['mailbox', 'create', '--help'], { home: h })]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toContain('--autonomy-level <n>');
  });

  it('the overview lists every command with its subcommand spelt out', async () => {
    const r = await runCli(['--help'], { home: home('overview') });
    expect(r.code).toBe(0);
    for (const spec of COMMANDS) expect(r.stdout).toContain(spec.path);
  });
});

describe.concurrent('typos get a suggestion, exit 2, and touch no database', () => {
  const cases: [string, string[], RegExp][] = [
    ['a misspelt command', ['approv', 'msg_x'], /unknown command 'approv'; did you mean approve/],
    ['a misspelt group', ['mailbx', 'list'], /unknown command 'mailbx'; did you mean mailbox/],
    ['a misspelt subcommand', ['mailbox', 'craete', 'a@b.test'], /unknown subcommand 'craete'; use list, create, update or resume; did you mean create/],
    ['a misspelt option', ['pending', '--mailbx', 'a@b.test'], /--mailbx: 'mailgate pending' does not take --mailbx .*did you mean --mailbox/],
    ["another command's option", ['approve', 'msg_x', '--reason', 'r'], /--reason: 'mailgate approve' does not take --reason \(its options: --note\)/],
    ['a missing argument', ['reject', '--reason', 'r'], /message_id: missing; use 'mailgate reject .*<message_id>'/],
    ['an extra argument', ['approve', 'msg_a', 'msg_b'], /'mailgate approve' takes 1 argument\(s\); got 'msg_b' too/],
    ['a value-less option', ['pending', '--limit'], /--limit: needs a value/],
    ['an option given twice', ['approve', 'msg_x', '--note', 'a', '--note', 'b'], /--note: given 2 times; 'mailgate approve' takes it once/],
    ['an HTTP flag over stdio', ['serve', '--first-run'], /--first-run: --first-run is for MCP over HTTP; add --http/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const h = home(`typo-${what.replace(/\W+/g, '-')}`);
      const r = await runCli(args, { home: h });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^mailgate: INVALID_INPUT: /);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
      expect(existsSync(join(h, '.mailgate'))).toBe(false);
    });
  }
});

describe('global options', () => {
  it('stand before or after the command, and the answer is the same', async () => {
    const h = home('globals');
    const db = tmp.file('globals.db');
    const before = await runCli(['--json', '--db', db, 'mailbox', 'list'], { home: h });
    const after = await runCli(['mailbox', 'list', '--json', '--db', db], { home: h });
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual(JSON.parse(before.stdout));
    expect(existsSync(join(h, '.mailgate'))).toBe(false); // --db was used, not the default
  });

  it('--version prints the version and nothing else', async () => {
    const r = await runCli(['--version'], { home: home('version') });
    expect([r.code, r.stdout.trim(), r.stderr]).toEqual([0, '0.1.0', '']);
  });
});
