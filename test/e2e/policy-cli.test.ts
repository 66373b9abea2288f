/**
 * `mailgate suppress` and `mailgate policy test` as a user runs them: output for people and --json for
 * scripts, exit codes (0 done, 2 bad input, 1 anything else), and a dry run that records nothing.
 * Uses the built-in sandbox mailboxes: agent@mailgate.test (gated_send) and you@mailgate.test (autonomous).
 */
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli } from './harness.js';

const AGENT = 'agent@mailgate.test';
const YOU = 'you@mailgate.test';
const tmp = tempDir('mailgate-e2e-policy-');
const db = tmp.file('policy.db');
const cli = (...args: string[]) => runCli([...args, '--db', db, '--as', 'tester'], { home: tmp.path, timeoutMs: 60_000 });
const json = async (...args: string[]) => {
  const r = await cli(...args, '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

/** Rows that prove something was recorded: outbound messages, audit events, captured mail. */
function recorded(): { messages: number; audit: number; captured: number } {
  const d = new Database(db, { readonly: true });
  try {
    const n = (table: string) => d.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
    return { messages: n('messages'), audit: n('audit_events'), captured: n('captured_mail') };
  } finally {
    d.close();
  }
}

beforeAll(async () => {
  assertBuilt();
  expect((await cli('mailbox', 'list')).code).toBe(0); // creates the database and the sandbox mailboxes
});
afterAll(() => tmp.cleanup());

// Each command is a fresh process (about a second, more on a loaded machine); a test runs several.
describe('mailgate suppress', { timeout: 120_000 }, () => {
  it('add: canonical value, scope every mailbox, a repeat says so; --json reports added true then false', async () => {
    const r = await cli('suppress', 'add', 'Evil@Example.COM', '--reason', 'asked to stop');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('suppressed: address evil@example.com (every mailbox)\n');
    expect(await json('suppress', 'add', 'evil@example.com')).toEqual({ added: false, scope: '*', kind: 'address', value: 'evil@example.com' });
    expect((await cli('suppress', 'add', 'EVIL@example.com.')).stdout).toMatch(/already on the list for every mailbox/);
  });

  it('add a domain for one mailbox: IDN and trailing dot canonicalised', async () => {
    expect(await json('suppress', 'add', 'Bücher.Example.', '--mailbox', AGENT)).toEqual({
      added: true,
      scope: AGENT,
      kind: 'domain',
      value: 'xn--bcher-kva.example',
    });
  });

  it('list: every entry with source manual and who added it; --mailbox narrows it; the table has the columns', async () => {
    const rows = await json('suppress', 'list');
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          scope: '*',
          kind: 'address',
          value: 'evil@example.com',
          source: 'manual',
          reason: 'asked to stop',
          created_by: 'cli:tester',
        }),
        expect.objectContaining({ scope: AGENT, kind: 'domain', value: 'xn--bcher-kva.example', source: 'manual' }),
      ]),
    );
    expect(rows).toHaveLength(2);
    expect((await json('suppress', 'list', '--mailbox', AGENT)).map((x: { value: string }) => x.value)).toEqual(['xn--bcher-kva.example']);
    const table = await cli('suppress', 'list');
    expect(table.stdout.split('\n')[0]).toMatch(/^scope\s+kind\s+value\s+source\s+reason\s+created_at\s+created_by$/);
    expect(table.stdout).toMatch(/\*\s+address\s+evil@example\.com\s+manual\s+asked to stop\s+\d{4}-\d\d-\d\dT/);
  });

  it('every change is audited as the person at the terminal', async () => {
    const { events } = await json('audit');
    const changes = (events as { action: string; actor: string }[]).filter((e) => e.action.startsWith('suppression.'));
    expect(changes.map((e) => `${e.action} ${e.actor}`)).toEqual(['suppression.added cli:tester', 'suppression.added cli:tester']);
  });

  it.each([
    ['an entry that is neither an address nor a domain', 2, ['suppress', 'add', 'not an entry'], /INVALID_INPUT: entry: .*not an address or a domain/],
    ['no entry', 2, ['suppress', 'add'], /INVALID_INPUT: entry: missing; use 'mailgate suppress add .*<entry>'/],
    ['an unknown subcommand', 2, ['suppress', 'purge', 'x.test'], /unknown subcommand 'purge'; use add, remove or list/],
    ['an unknown mailbox', 1, ['suppress', 'add', 'x@y.test', '--mailbox', 'nobody@mailgate.test'], /UNKNOWN_MAILBOX.*agent@mailgate\.test/],
  ])('refused: %s (exit %i), nothing changes', async (_, code, args, message) => {
    const before = recorded();
    const r = await cli(...args);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
    expect(recorded()).toEqual(before);
  });

  // Regression (fixed): src/cli/policy.ts line 80 passes Number(flags.limit) unchecked; `--limit abc` reaches SQLite as NaN
  // ("datatype mismatch") and the command fails with INTERNAL and exit 1, where every other command refuses a
  // bad --limit with exit 2 naming it (src/cli/commands.ts limitOf).
  it('suppress list --limit abc exits 2 naming --limit', async () => {
    const r = await cli('suppress', 'list', '--limit', 'abc');
    expect([r.code, r.stderr.includes('--limit')]).toEqual([2, true]);
  });

  it('remove: removed true, then false (exit 0 both), and the entry no longer blocks', async () => {
    expect(await json('suppress', 'remove', 'EVIL@example.com')).toEqual({ removed: true, scope: '*', kind: 'address', value: 'evil@example.com' });
    const again = await cli('suppress', 'remove', 'evil@example.com');
    expect([again.code, again.stdout]).toEqual([0, 'address evil@example.com was not on the list for every mailbox\n']);
    expect((await json('policy', 'test', '--mailbox', YOU, '--to', 'evil@example.com', '--subject', 'Hi', '--text', 'x')).outcome).toBe('execute');
    await json('suppress', 'add', 'evil@example.com'); // back for the policy tests below
  });
});

describe('mailgate policy test', { timeout: 120_000 }, () => {
  let before: ReturnType<typeof recorded>;
  beforeAll(() => {
    before = recorded();
  });

  it('human output: the decision, a table of every hit, and the promise that nothing happened', async () => {
    const r = await cli(
      'policy',
      'test',
      '--mailbox',
      YOU,
      '--to',
      'Evil@Example.com,ann@partner.test',
      '--subject',
      'Hello',
      '--text',
      `my key is AKIA${'IOSFODNN7EXAMPLE'}`,
    );
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^BLOCK \(suppressed_recipient\): evil@example\.com is on the suppression list/);
    expect(lines[2]).toMatch(/^rule\s+effect\s+code\s+reason$/);
    expect(r.stdout).toMatch(/^suppression\s+block\s+suppressed_recipient\s+evil@example\.com/m);
    // The table cuts long reasons; --json has them whole.
    expect(r.stdout).toMatch(/^content_holds\.secrets\s+hold\s+hold_secret\s+the message looks like it contains a secret/m);
    expect(r.stdout).not.toContain('IOSFODNN7EXAMPLE');
    expect(r.stdout.trimEnd().endsWith('Nothing was recorded or sent.')).toBe(true);
  });

  it('--json: outcome, code, reason and the hits with their details', async () => {
    const r = await json('policy', 'test', '--mailbox', YOU, '--to', 'ann@partner.test', '--subject', 'Deploy', '--text', `token ghp_${'a1'.repeat(18)}`);
    expect(r).toEqual({
      outcome: 'hold',
      code: 'hold_secret',
      reason: expect.stringMatching(/GitHub token in text/),
      hits: [
        {
          rule: 'content_holds.secrets',
          code: 'hold_secret',
          effect: 'hold',
          reason: expect.any(String),
          details: { found: [{ where: 'text', kind: 'GitHub token' }] },
        },
      ],
    });
  });

  it('a clean draft: the mode decides, no hits', async () => {
    expect(await json('policy', 'test', '--mailbox', YOU, '--to', 'ann@partner.test', '--subject', 'Hi', '--text', 'Lunch?')).toEqual({
      outcome: 'execute',
      code: 'mode_allows',
      reason: 'autonomous mode sends at once',
      hits: [],
    });
    const r = await cli('policy', 'test', '--mailbox', AGENT, '--to', 'ann@partner.test', '--subject', 'Hi', '--text', 'Lunch?');
    expect(r.stdout).toMatch(/^HOLD \(mode_requires_approval\)[^\n]*\n\n\(none\)\n/);
  });

  it('--file: a reply adding a cc, with too large an attachment; flags override the file', async () => {
    const file = tmp.file('draft.json');
    writeFileSync(
      file,
      JSON.stringify({
        mailbox: AGENT,
        to: ['ann@partner.test'],
        cc: ['eve@attacker.test'],
        subject: 'Re: figures',
        text: 'See attached.',
        thread_participants: ['ann@partner.test', AGENT],
        attachments: [{ filename: 'dump.csv', size: 11 * 1024 * 1024 }],
      }),
    );
    const r = await json('policy', 'test', '--file', file);
    expect([r.outcome, r.code]).toEqual(['block', 'attachment_limit']);
    expect(r.hits.map((x: { rule: string }) => x.rule)).toEqual(['max_attachment_bytes', 'content_holds.new_recipient']);
    expect(r.hits[1].details).toEqual({ added: ['eve@attacker.test'] });
    const overridden = await json('policy', 'test', '--file', file, '--cc', 'ann@partner.test');
    expect(overridden.hits.map((x: { rule: string }) => x.rule)).toEqual(['max_attachment_bytes']);
  });

  it.each([
    ['a malformed --to', 2, ['--mailbox', AGENT, '--to', 'not-an-address', '--text', 'x'], /--to/],
    ['no recipient', 2, ['--mailbox', AGENT, '--subject', 'x', '--text', 'x'], /--to: give at least one recipient/],
    ['no --mailbox', 2, ['--to', 'a@b.test', '--text', 'x'], /--mailbox/],
    ['an unreadable --file', 2, ['--file', '/nonexistent/draft.json'], /--file/],
    ['an unknown key in the file', 2, ['--file', 'EXTRA'], /INVALID_INPUT: --file: Unrecognized key: "priority"/],
    ['an unknown mailbox', 1, ['--mailbox', 'nobody@mailgate.test', '--to', 'a@b.test', '--text', 'x'], /UNKNOWN_MAILBOX/],
  ])('refused: %s (exit %i)', async (_, code, args, message) => {
    const extra = tmp.file('extra.json');
    writeFileSync(extra, JSON.stringify({ mailbox: AGENT, to: ['a@b.test'], priority: 'high' }));
    const r = await cli('policy', 'test', ...args.map((a) => (a === 'EXTRA' ? extra : a)));
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(message);
  });

  it('an unknown subcommand exits 2', async () => {
    const r = await cli('policy', 'run', '--mailbox', AGENT, '--to', 'a@b.test');
    expect([r.code, /unknown subcommand 'run'; use test; see 'mailgate policy --help'/.test(r.stderr)]).toEqual([2, true]);
  });

  it('none of the above recorded a message, an audit event or captured mail', () => {
    expect(recorded()).toEqual(before);
    expect(before.messages).toBe(0);
  });
});
