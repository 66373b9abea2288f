/**
 * The setup-problem server (src/mcp/setup-problem.ts) in-process, through a real SDK client over the SDK's
 * InMemoryTransport, with the error a real loadConfig throws: a config whose password_env variable is unset,
 * beside an account whose password is in the file. The client connects, sees one read-only tool whose call
 * names the variable, gets the problem in the instructions and as a logging notification, and never sees the
 * other account's password or a quoted line of the config file.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { type CallToolResult, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { MailgateError } from '../../src/errors.js';
import { createSetupProblemServer } from '../../src/mcp/setup-problem.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('mailgate-setup-problem-');
const OTHER_SECRET = 'Other-Account-Pw-5150';
afterAll(() => tmp.cleanup());

function configError(config: unknown, raw?: string): MailgateError {
  const file = tmp.file(`config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, raw ?? JSON.stringify(config, null, 2));
  try {
    loadConfig({ config: file }, {});
  } catch (err) {
    if (err instanceof MailgateError) return err;
    throw err;
  }
  throw new Error('the config loaded, but a problem was expected');
}

const side = (auth: Record<string, string>) => ({ host: '127.0.0.1', port: 1143, secure: false, user: 'u', ...auth });
const TWO_ACCOUNTS = {
  mailboxes: [
    { address: 'ok@example.com', oversight_mode: 'gated_send', imap: side({ password: OTHER_SECRET }), smtp: side({ password: OTHER_SECRET }) },
    { address: 'support@example.com', oversight_mode: 'gated_send', imap: side({ password_env: 'SUPPORT_IMAP_PW' }), smtp: side({ password: 'x' }) },
  ],
};

async function connect(err: MailgateError) {
  const server = createSetupProblemServer(err);
  const client = new Client({ name: 'setup-problem-test', version: '1.0.0' });
  const logged: string[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(`${n.params.level}: ${String(n.params.data)}`));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  await client.connect(b);
  return { client, logged, close: () => Promise.all([client.close(), server.close()]) };
}

const textOf = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');

describe('the setup-problem server', () => {
  it('answers the handshake, lists one read-only tool, and its call names the unset variable', async () => {
    const err = configError(TWO_ACCOUNTS);
    expect(err.code).toBe('CONFIG_INVALID');
    const { client, logged, close } = await connect(err);
    try {
      expect(client.getServerVersion()?.name).toBe('mailgate');
      const instructions = client.getInstructions() ?? '';
      expect(instructions).toContain('not running because of a setup problem');
      expect(instructions).toContain('mailboxes[1] (support@example.com).imap.password_env: environment variable SUPPORT_IMAP_PW is not set');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['setup_problem']);
      expect(tools[0]!.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: false });
      const r = (await client.callTool({ name: 'setup_problem', arguments: {} })) as CallToolResult;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/^CONFIG_INVALID: mailgate could not start \(CONFIG_INVALID\)/);
      expect(textOf(r)).toContain('SUPPORT_IMAP_PW');
      expect(textOf(r)).toContain('restart the MCP client');
      // Any other tool is refused: the session offers nothing but the problem.
      const other = (await client.callTool({ name: 'send_email', arguments: {} })) as CallToolResult;
      expect(other.isError).toBe(true);
      await expect.poll(() => logged.join('\n')).toContain('error: CONFIG_INVALID: mailgate could not start');
      expect(logged.join('\n')).toContain('SUPPORT_IMAP_PW');
      expect(`${instructions}\n${textOf(r)}\n${logged.join('\n')}\n${JSON.stringify(tools)}`).not.toContain(OTHER_SECRET);
    } finally {
      await close();
    }
  });

  it('keeps a JSON syntax problem to its first line, so no line of the config file (a password) is quoted', async () => {
    const raw = `{\n  "mailboxes": [\n    { "address": "a@example.com", "imap": { "password": "${OTHER_SECRET}" } "smtp": {} }\n  ]\n}\n`;
    const err = configError(undefined, raw);
    expect(err.message).toContain(OTHER_SECRET); // the terminal message quotes the line (next to the bad spot) ...
    const { client, logged, close } = await connect(err);
    try {
      const r = (await client.callTool({ name: 'setup_problem', arguments: {} })) as CallToolResult;
      expect(textOf(r)).toMatch(/is not valid JSON: .* at line 3, column \d+$/m);
      await expect.poll(() => logged.length).toBe(1);
      // ... the client and the model get the position only.
      expect(`${client.getInstructions()}\n${textOf(r)}\n${logged.join('\n')}`).not.toContain(OTHER_SECRET);
    } finally {
      await close();
    }
  });
});
