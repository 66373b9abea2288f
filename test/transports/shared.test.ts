/**
 * One suite, every transport: the same tool cases run over stdio (`mailgate serve` with MAILGATE_TOKEN),
 * Streamable HTTP and legacy SSE (`mailgate serve --http` with a bearer token). Each transport gets its own
 * database and real processes; the tools must behave identically.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, childEnv, CLI, ok, ROOT, textOf } from '../e2e/harness.js';
import { connect, createToken, type HttpSession, startHttpServer, stopAllHttp } from '../http/harness.js';

type Session = Pick<HttpSession, 'call' | 'tools' | 'close'>;

interface Connector {
  /** Prepares a database (tokens exist already) and returns a way to open sessions on it. */
  start(db: string, home: string): Promise<(token: string, clientName: string) => Promise<Session>>;
}

const stdio: Connector = {
  async start(db, home) {
    return async (token, clientName) => {
      const transport = new StdioClientTransport({
        command: process.execPath,
        args: [CLI, 'serve', '--db', db],
        cwd: ROOT,
        stderr: 'ignore',
        env: childEnv(home, { MAILGATE_TOKEN: token }),
      });
      const client = new Client({ name: clientName, version: '1.0.0' });
      await client.connect(transport);
      return {
        call: async (name, a = {}) => (await client.callTool({ name, arguments: a }, undefined, { timeout: 30_000 })) as CallToolResult,
        tools: async () => (await client.listTools()).tools.map((t) => t.name).sort(),
        close: () => client.close(),
      };
    };
  },
};

const http = (kind: 'streamable' | 'sse'): Connector => ({
  async start(db, home) {
    const server = await startHttpServer({ db, home });
    return (token, clientName) => connect(kind, server.url, token, clientName);
  },
});

const CONNECTORS: [string, Connector][] = [
  ['stdio', stdio],
  ['streamable-http', http('streamable')],
  ['sse', http('sse')],
];

assertBuilt();
afterAll(async () => {
  await stopAllHttp();
});

describe.each(CONNECTORS)('tools over %s', (name, connector) => {
  const tmp = tempDir(`mailgate-transport-${name}-`);
  const db = tmp.file('t.db');
  let agent: Session;
  let reviewer: Session;

  beforeAll(async () => {
    const agentToken = await createToken(db, tmp.path, 'shared-agent', 'agent');
    const reviewerToken = await createToken(db, tmp.path, 'shared-reviewer', 'reviewer');
    const open = await connector.start(db, tmp.path);
    agent = await open(agentToken, 'suite-agent');
    reviewer = await open(reviewerToken, 'suite-reviewer');
  });
  afterAll(async () => {
    await agent?.close();
    await reviewer?.close();
    tmp.cleanup();
  });

  it('sees the same tools per role', async () => {
    expect(await agent.tools()).toEqual([
      'cancel_message',
      'check_inbox',
      'delete_email',
      'forward_email',
      'get_attachment',
      'get_message',
      'get_thread',
      'list_folders',
      'list_pending',
      'mail_wait',
      'manage_contacts',
      'read_email',
      'reply_email',
      'search_email',
      'send_email',
      'tag_email',
    ]);
    expect(await reviewer.tools()).toEqual(['decide_email', 'get_audit', 'list_pending', 'queue_approve', 'queue_reject']);
  });

  it('send held -> list_pending -> approve -> mail_wait sees sent -> get_audit tells the story', async () => {
    const held = ok<{ message_id: string; status: string }>(
      await agent.call('send_email', {
        mailbox: 'agent@mailgate.test',
        to: 'you@mailgate.test',
        subject: `Over ${name}`,
        text: 'Please approve',
      }),
    );
    expect(held.status).toBe('pending');

    const pending = ok<{ messages: { message_id: string; subject: string }[] }>(await reviewer.call('list_pending', {}));
    expect(pending.messages).toEqual(expect.arrayContaining([expect.objectContaining({ message_id: held.message_id, subject: `Over ${name}` })]));

    const approved = ok<{ status: string; decided_by: string }>(await reviewer.call('queue_approve', { message_id: held.message_id, note: 'ok' }));
    expect(['approved', 'sending', 'sent']).toContain(approved.status);
    expect(approved.decided_by).toBe('token:shared-reviewer/suite-reviewer');

    // mail_wait also waits for a reply, which never comes here: short waits until it reports the delivery.
    let waited = { status: '' };
    for (let i = 0; i < 10 && waited.status !== 'sent'; i++) {
      waited = ok<{ status: string }>(await agent.call('mail_wait', { message_id: held.message_id, timeout_seconds: 1 }));
    }
    expect(waited.status).toBe('sent');

    const audit = ok<{ events: { action: string; actor: string }[] }>(await reviewer.call('get_audit', { message_id: held.message_id }));
    const actions = audit.events.map((e) => e.action);
    expect(actions[0]).toMatch(/held|pending|submitted|created/);
    expect(actions).toEqual(expect.arrayContaining(['message.approved']));
    expect(actions.some((a) => /sent/.test(a))).toBe(true);
    expect(audit.events.map((e) => e.actor)).toEqual(expect.arrayContaining(['token:shared-agent/suite-agent', 'token:shared-reviewer/suite-reviewer']));
  });

  it('bad input is an isError result naming the field', async () => {
    const r = await agent.call('send_email', { mailbox: 'agent@mailgate.test', to: 'not-an-address', subject: 'x', text: 'y' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/\bto\b/);
    const w = await agent.call('mail_wait', { message_id: 'msg_x', timeout_seconds: 9999 });
    expect(w.isError).toBe(true);
    expect(textOf(w)).toMatch(/timeout_seconds/);
  });

  it('a tool outside the role is refused by name', async () => {
    const r = await agent.call('get_audit', {});
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/get_audit/);
  });
});
