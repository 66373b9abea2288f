/**
 * The acceptance scenario with real processes: an agent server and a reviewer server, spawned separately,
 * share one database file with the built-in sandbox config (agent@ gated_send, you@ autonomous).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, holdsFor, inbox, ok, type ServerHandle, startServer, textOf, waitForStatus } from './harness.js';

const tmp = tempDir('mailgate-e2e-accept-');
const db = tmp.file('shared.db');
let agent: ServerHandle;
let reviewer: ServerHandle;

// access review / audit / admin. list_pending (access 'queue') is a read-only view the agent may use.
const REVIEW_OR_OPERATOR_TOOLS = ['decide_email', 'queue_approve', 'queue_reject', 'get_audit', 'list_mailboxes', 'create_mailbox', 'update_mailbox'];
const AGENT_TOOLS = [
  'send_email',
  'reply_email',
  'forward_email',
  'check_inbox',
  'read_email',
  'search_email',
  'tag_email',
  'delete_email',
  'cancel_message',
  'get_message',
  'mail_wait',
  'list_pending',
  'list_folders',
  'get_attachment',
  'get_thread',
  'manage_contacts',
];

/** Delivery polls every 200 ms (1 s by default), so the windows below that prove nothing leaves span several. */
const POLL = { MAILGATE_DELIVERY_POLL_MS: '200' };
/** Three delivery polls of each process. */
const POLLS_MS = 600;

beforeAll(async () => {
  assertBuilt();
  // Sequential start: the first process creates the schema and the default mailboxes.
  agent = await startServer({ role: 'agent', db, home: tmp.path, env: POLL });
  reviewer = await startServer({ role: 'reviewer', db, home: tmp.path, env: POLL });
});

afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

async function send(subject: string) {
  return ok<{ message_id: string; status: string; expires_at?: string }>(
    await agent.call('send_email', {
      mailbox: 'agent@mailgate.test',
      to: 'you@mailgate.test',
      subject,
      text: `body of ${subject}`,
    }),
  );
}

describe('agent and reviewer processes on one database', () => {
  it('holds a gated send, shows it to the reviewer, and delivers it exactly once after approval', async () => {
    const sent = await send('Quarterly report');
    expect(sent.status).toBe('pending');
    expect(sent.message_id).toMatch(/^msg_/);
    expect(sent.expires_at).toBeTruthy();

    const pending = ok<{ messages: { message_id: string; subject: string; mailbox: string }[] }>(await reviewer.call('list_pending', {}));
    const held = pending.messages.filter((m) => m.message_id === sent.message_id);
    expect(held).toHaveLength(1);
    expect(held[0]).toMatchObject({ subject: 'Quarterly report', mailbox: 'agent@mailgate.test' });

    // Not delivered while held.
    expect((await inbox(agent, 'you@mailgate.test')).filter((e) => e.subject === 'Quarterly report')).toHaveLength(0);

    const approved = ok<{ status: string; decided_by: string }>(await reviewer.call('queue_approve', { message_id: sent.message_id, note: 'fine' }));
    // The reviewer delivers inline; the agent's background worker may win the claim, so 'sending' is possible.
    expect(['sent', 'sending', 'approved']).toContain(approved.status);
    expect(approved.decided_by).toMatch(/^mcp:reviewer/);
    await waitForStatus(agent, sent.message_id, ['sent']);

    const hits = (await inbox(agent, 'you@mailgate.test')).filter((e) => e.subject === 'Quarterly report');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.from).toBe('agent@mailgate.test');

    // Both background workers run again meanwhile: still exactly one copy.
    await holdsFor(
      async () => (await inbox(agent, 'you@mailgate.test')).filter((e) => e.subject === 'Quarterly report').length === 1,
      POLLS_MS,
      'one copy of the approved mail',
    );
    const after = ok<{ messages: { message_id: string }[] }>(await reviewer.call('list_pending', {}));
    expect(after.messages.map((m) => m.message_id)).not.toContain(sent.message_id);
  });

  it('never delivers a rejected message, and the agent sees the rejection and its reason', async () => {
    const sent = await send('Unvetted offer');
    expect(sent.status).toBe('pending');
    const rejected = ok<{ status: string; decision_reason: string }>(await reviewer.call('queue_reject', { message_id: sent.message_id, reason: 'off-brand' }));
    expect(rejected).toMatchObject({ status: 'rejected', decision_reason: 'off-brand' });

    await holdsFor(
      async () => (await inbox(agent, 'you@mailgate.test')).every((e) => e.subject !== 'Unvetted offer'),
      POLLS_MS,
      'no copy of the rejected mail',
    );
    const detail = ok<{ status: string; decision_reason: string; sent_at: string | null; history: { action: string }[] }>(
      await agent.call('get_message', { message_id: sent.message_id }),
    );
    expect(detail.status).toBe('rejected');
    expect(detail.decision_reason).toBe('off-brand');
    expect(detail.sent_at).toBeNull();
    expect(detail.history.map((h) => h.action)).not.toContain('message.sent');

    // A late approval of a rejected message loses.
    const late = await reviewer.call('queue_approve', { message_id: sent.message_id });
    expect(late.isError).toBe(true);
    expect(textOf(late)).toContain('NOT_PENDING');
  });
});

describe('role separation across processes', () => {
  it('lists no review or operator tool to the agent, but the write and read tools', async () => {
    const names = (await agent.client.listTools()).tools.map((t) => t.name);
    for (const t of REVIEW_OR_OPERATOR_TOOLS) expect(names).not.toContain(t);
    expect([...names].sort()).toEqual([...AGENT_TOOLS].sort());
    for (const t of (await agent.client.listTools()).tools) {
      if (t.annotations?.readOnlyHint === false)
        expect(['send_email', 'reply_email', 'forward_email', 'tag_email', 'delete_email', 'cancel_message', 'manage_contacts']).toContain(t.name);
    }
    const reviewerNames = (await reviewer.client.listTools()).tools.map((t) => t.name);
    expect(reviewerNames).toEqual(expect.arrayContaining(['list_pending', 'queue_approve', 'queue_reject']));
    expect(reviewerNames).not.toContain('send_email');
  });

  it('refuses queue_approve called by name from the agent process; the message stays pending', async () => {
    const sent = await send('Self-approval attempt');
    expect(sent.status).toBe('pending');
    const r = await agent.call('queue_approve', { message_id: sent.message_id });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/queue_approve/);
    const r2 = await agent.call('decide_email', { message_id: sent.message_id, action: 'approve' });
    expect(r2.isError).toBe(true);

    // Several delivery polls later it is still pending and undecided.
    await holdsFor(
      async () => {
        const detail = ok<{ status: string; decided_by: string | null }>(await agent.call('get_message', { message_id: sent.message_id }));
        return detail.status === 'pending' && detail.decided_by === null;
      },
      POLLS_MS,
      'the message pending and undecided',
    );
    const pending = ok<{ messages: { message_id: string }[] }>(await reviewer.call('list_pending', {}));
    expect(pending.messages.map((m) => m.message_id)).toContain(sent.message_id);
  });

  it('points the agent only at tools it can call (descriptions and input schemas)', async () => {
    const { tools } = await agent.client.listTools();
    const visible = new Set(tools.map((t) => t.name));
    const all = [...AGENT_TOOLS, ...REVIEW_OR_OPERATOR_TOOLS];
    const dangling: string[] = [];
    for (const t of tools) {
      const text = `${t.description ?? ''} ${JSON.stringify(t.inputSchema)}`;
      for (const name of all) if (!visible.has(name) && new RegExp(`\\b${name}\\b`).test(text)) dangling.push(`${t.name} -> ${name}`);
    }
    expect(dangling).toEqual([]);
  });

  it('refuses send_email from the reviewer process', async () => {
    const r = await reviewer.call('send_email', { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'x', text: 'y' });
    expect(r.isError).toBe(true);
  });
});
