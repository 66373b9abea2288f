/**
 * Nothing internal leaks: bad input to spawned servers and to the CLI yields catalogued, readable errors with
 * no stack frames and no SQL, and the server keeps serving afterwards.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, ok, runCli, type ServerHandle, SQL_TEXT, STACK_LINE, startServer, textOf } from './harness.js';

const tmp = tempDir('mailgate-e2e-errors-');
const db = tmp.file('errors.db');
const home = tmp.path;
let agent: ServerHandle;
let reviewer: ServerHandle;

beforeAll(async () => {
  assertBuilt();
  agent = await startServer({ role: 'agent', db, home });
  reviewer = await startServer({ role: 'reviewer', db, home });
});

afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

function expectClean(what: string, text: string): void {
  expect(text, what).not.toMatch(STACK_LINE);
  expect(text, what).not.toMatch(/\n\s+at [^\n]*:\d+:\d+/);
  expect(text, `${what} (JSON-escaped stack)`).not.toMatch(/\\n\s+at \S/);
  expect(text, what).not.toMatch(SQL_TEXT);
  expect(text, what).not.toMatch(/\/work\/|node_modules|dist\/src/);
}

function expectRefused(what: string, r: CallToolResult): string {
  expect(r.isError, `${what}: ${textOf(r)}`).toBe(true);
  const text = `${textOf(r)} ${JSON.stringify(r.structuredContent ?? {})}`;
  expectClean(what, text);
  return text;
}

const good = { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'ok', text: 'ok' };

describe('bad input to MCP tools in a spawned server', () => {
  const agentCases: [string, string, Record<string, unknown>, RegExp][] = [
    ['invalid recipient', 'send_email', { ...good, to: 'not an address' }, /to/],
    ['CRLF in subject', 'send_email', { ...good, subject: 'hi\r\nBcc: spy@evil.test' }, /line break/],
    ['no body', 'send_email', { ...good, text: undefined }, /body/],
    ['unknown key', 'send_email', { ...good, bcc_all: true }, /bcc_all/],
    ['unknown mailbox', 'send_email', { ...good, mailbox: "o'brien@mailgate.test" }, /UNKNOWN_MAILBOX.*agent@mailgate\.test/],
    ['SQL-ish message id', 'get_message', { message_id: "msg_1' OR '1'='1" }, /message/],
    ['unknown message id', 'get_message', { message_id: 'msg_AAAAAAAAAAAAAAAAAAAA' }, /UNKNOWN_MESSAGE/],
    ['unknown email id', 'read_email', { email_id: 'em_AAAAAAAAAAAAAAAAAAAA' }, /UNKNOWN_EMAIL/],
    ['wait too long', 'mail_wait', { message_id: 'msg_AAAAAAAAAAAAAAAAAAAA', timeout_seconds: 999 }, /at most/],
    ['limit too big', 'check_inbox', { mailbox: 'you@mailgate.test', limit: 100000 }, /limit/],
    ['wrong type', 'check_inbox', { mailbox: 42 }, /mailbox/],
  ];
  for (const [what, tool, args, names] of agentCases) {
    it(`agent ${tool}: ${what}`, async () => {
      const text = expectRefused(what, await agent.call(tool, args));
      expect(text).toMatch(names);
    });
  }

  const reviewerCases: [string, string, Record<string, unknown>, RegExp][] = [
    ['bad cursor', 'list_pending', { cursor: "'; DROP TABLE messages; --" }, /cursor/],
    ['empty reject reason', 'queue_reject', { message_id: 'msg_AAAAAAAAAAAAAAAAAAAA', reason: '  ' }, /reason/],
    ['approve unknown', 'queue_approve', { message_id: 'msg_AAAAAAAAAAAAAAAAAAAA' }, /UNKNOWN_MESSAGE/],
    ['edit with CRLF', 'queue_approve', { message_id: 'msg_AAAAAAAAAAAAAAAAAAAA', edits: { subject: 'a\nb' } }, /line break/],
  ];
  for (const [what, tool, args, names] of reviewerCases) {
    it(`reviewer ${tool}: ${what}`, async () => {
      const text = expectRefused(what, await reviewer.call(tool, args));
      expect(text).toMatch(names);
    });
  }

  it('says what a valid recipient looks like when "to" is not an address', async () => {
    const text = expectRefused('invalid to', await agent.call('send_email', { ...good, to: 'not an address' }));
    // Convention 5: the text tells the model how to recover, as EmailAddress's own message does.
    expect(text).toMatch(/email address|name@example\.com/);
  });

  it('treats SQL in a search query as text, and the idempotency conflict names the key', async () => {
    const found = ok<{ emails: unknown[] }>(await agent.call('search_email', { mailbox: 'you@mailgate.test', query: "%' OR '1'='1" }));
    expect(found.emails).toEqual([]);
    ok(await agent.call('send_email', { ...good, idempotency_key: 'k1' }));
    const text = expectRefused('idempotency', await agent.call('send_email', { ...good, text: 'different', idempotency_key: 'k1' }));
    expect(text).toContain('IDEMPOTENCY_CONFLICT');
  });

  it('still serves after all of the above, and logged no stack for expected errors', async () => {
    // A new message (the same content again would be refused as a duplicate of the one sent above).
    expect(ok<{ status: string }>(await agent.call('send_email', { ...good, subject: 'still serving' })).status).toBe('pending');
    expect(agent.stderr()).not.toMatch(/"level":"error"/);
    expect(reviewer.stderr()).not.toMatch(/"level":"error"/);
  });
});

describe.concurrent('bad input to the CLI', () => {
  const cases: [string, string[], RegExp][] = [
    ['bad --limit', ['pending', '--limit', 'abc'], /--limit/],
    ['bad address', ['mailbox', 'create', "x'; DROP TABLE mailboxes;--"], /address/],
    ['bad --rules', ['mailbox', 'create', 'r@y.test', '--rules', '[{"type":"nope"}]'], /--rules/],
    ['rules not JSON', ['mailbox', 'create', 'r@y.test', '--rules', '{oops'], /--rules/],
    ['bad --mode', ['mailbox', 'create', 'r@y.test', '--mode', 'yolo'], /--mode/],
    ['bad cursor', ['pending', '--cursor', "' OR 1=1"], /cursor/],
    ['bad message id', ['approve', "msg_' OR 1=1"], /message id/],
    ['unknown audit subcommand', ['audit', 'drop'], /audit/],
  ];
  for (const [what, args, names] of cases) {
    it(`${args[0]}: ${what} exits 2 with a clean message`, async () => {
      const r = await runCli([...args, '--db', db], { home });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(names);
      expect(r.stderr).toMatch(/^mailgate: INVALID_INPUT: /m);
      expectClean(what, r.stderr + r.stdout);
    });
  }

  it('a --db that cannot be opened (a directory) is reported without a stack trace', async () => {
    const r = await runCli(['pending', '--db', tmp.path], { home });
    expect(r.code).not.toBe(0);
    expectClean('--db is a directory', r.stderr);
    // It should name the path and the flag, not claim a server "is still serving".
    expect(r.stderr).toContain(tmp.path);
    expect(r.stderr).not.toMatch(/still serving/);
  });
});
