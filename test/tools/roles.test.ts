/** Role filtering, annotations and tool metadata, seen through tools/list of a real SDK client. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { deniedSince, type Harness, lastSeq, ok, send, snapshot, startHarness, textOf } from './harness.js';

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
/** MCPMail's spellings, for tool_names "dotted": every tool has one. */
const DOTTED: Record<string, string> = {
  send_email: 'mail.send',
  reply_email: 'mail.reply',
  forward_email: 'mail.forward',
  check_inbox: 'mail.list',
  read_email: 'mail.read',
  search_email: 'mail.search',
  tag_email: 'mail.tag',
  delete_email: 'mail.delete',
  cancel_message: 'mail.cancel',
  get_message: 'mail.status',
  mail_wait: 'mail.wait',
  list_folders: 'mail.folders',
  get_attachment: 'mail.attachment',
  get_thread: 'mail.thread',
  manage_contacts: 'contacts.manage',
  list_pending: 'queue.list',
  decide_email: 'queue.decide',
  queue_approve: 'queue.approve',
  queue_reject: 'queue.reject',
  get_audit: 'audit.list',
  list_mailboxes: 'mailbox.list',
  create_mailbox: 'mailbox.create',
  update_mailbox: 'mailbox.update',
};
const REVIEWER_TOOLS = ['list_pending', 'decide_email', 'queue_approve', 'queue_reject', 'get_audit'];
const OPERATOR_TOOLS = ['get_audit', 'list_mailboxes', 'create_mailbox', 'update_mailbox'];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function names(c: Harness['agent']): Promise<string[]> {
  return (await c.client.listTools()).tools.map((t) => t.name);
}

async function toolMap(): Promise<Map<string, Tool>> {
  const all = new Map<string, Tool>();
  for (const c of [h.agent, h.reviewer, h.operator]) for (const t of (await c.client.listTools()).tools) all.set(t.name, t);
  return all;
}

describe('tools/list per role', () => {
  it('agent sees exactly the read, write and queue tools', async () => {
    expect((await names(h.agent)).sort()).toEqual([...AGENT_TOOLS].sort());
  });

  it('reviewer sees exactly the queue, review and audit tools', async () => {
    expect((await names(h.reviewer)).sort()).toEqual([...REVIEWER_TOOLS].sort());
  });

  it('operator sees exactly the admin and audit tools', async () => {
    expect((await names(h.operator)).sort()).toEqual([...OPERATOR_TOOLS].sort());
  });

  it('a combined agent+reviewer session sees the union', async () => {
    const both = await h.connect(['agent', 'reviewer']);
    expect((await names(both)).sort()).toEqual([...new Set([...AGENT_TOOLS, ...REVIEWER_TOOLS])].sort());
  });
});

describe('refusing tools outside the role', () => {
  it('agent cannot approve, decide or reject its own held mail; it stays pending', async () => {
    const held = await send(h.agent, { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'Self-approve?' });
    expect(held.status).toBe('pending');
    const before = await snapshot(h.app);
    const seq = await lastSeq(h.app);
    const attempts: [string, Record<string, unknown>][] = [
      ['queue_approve', { message_id: held.message_id }],
      ['decide_email', { message_id: held.message_id, action: 'approve' }],
      ['queue_reject', { message_id: held.message_id, reason: 'no' }],
    ];
    for (const [name, args] of attempts) {
      const r = await h.agent.call(name, args);
      expect(r.isError, name).toBe(true);
      expect(textOf(r), name).toMatch(new RegExp(name));
    }
    // The SDK answers these (the tools are not listed), but each attempt is audited with who, what and how.
    const denied = await deniedSince(h.app, seq);
    expect(denied.map((e) => e.detail.via)).toEqual(attempts.map(([name]) => name));
    for (const e of denied) {
      expect(e.actor).toMatch(/^mcp:agent/);
      expect(e.detail).toMatchObject({ target: e.detail.via, roles: ['agent'] });
      expect(String(e.detail.reason)).toMatch(/not a tool of this session/);
    }
    const detail = ok(await h.agent.call('get_message', { message_id: held.message_id }));
    expect(detail.status).toBe('pending');
    expect(detail.decided_by).toBeNull();
    expect(await snapshot(h.app)).toEqual(before);
    const page = ok(await h.reviewer.call('list_pending', {}));
    expect(page.messages.map((m: { message_id: string }) => m.message_id)).toContain(held.message_id);
  });

  it('agent cannot change a mailbox mode', async () => {
    const before = await snapshot(h.app);
    const seq = await lastSeq(h.app);
    const r = await h.agent.call('update_mailbox', { address: 'agent@mailgate.test', oversight_mode: 'autonomous', change_reason: 'me' });
    expect(r.isError).toBe(true);
    expect((await deniedSince(h.app, seq)).map((e) => e.detail.via)).toEqual(['update_mailbox']);
    const mb = await h.app.store.getMailbox('agent@mailgate.test');
    expect(mb?.oversight_mode).toBe('gated_send');
    expect(await snapshot(h.app)).toEqual(before);
  });

  it('reviewer cannot send and operator cannot approve', async () => {
    const before = await snapshot(h.app);
    const r1 = await h.reviewer.call('send_email', { mailbox: 'you@mailgate.test', to: 'x@example.com', subject: 's', text: 't' });
    expect(r1.isError).toBe(true);
    const r2 = await h.operator.call('queue_approve', { message_id: 'msg_AAAAAAAAAAAAAAAAAAAA' });
    expect(r2.isError).toBe(true);
    expect(await snapshot(h.app)).toEqual(before);
  });
});

describe('tool metadata', () => {
  it('annotations derive from access', async () => {
    const tools = await toolMap();
    const ann = (n: string) => tools.get(n)!.annotations!;
    for (const n of ['check_inbox', 'read_email', 'search_email', 'get_message', 'mail_wait', 'list_folders', 'get_attachment', 'get_thread']) {
      expect(ann(n), n).toMatchObject({ readOnlyHint: true, destructiveHint: false, openWorldHint: true });
    }
    for (const n of ['list_pending', 'get_audit']) {
      expect(ann(n), n).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    }
    for (const n of [
      'send_email',
      'reply_email',
      'forward_email',
      'tag_email',
      'delete_email',
      'cancel_message',
      'queue_approve',
      'queue_reject',
      'decide_email',
    ]) {
      expect(ann(n), n).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    }
    for (const n of ['create_mailbox', 'update_mailbox', 'list_mailboxes']) {
      expect(ann(n), n).toMatchObject({ readOnlyHint: false, destructiveHint: false, openWorldHint: false });
    }
  });

  it('every tool has a title, a description, an input schema that refuses extra keys, and an output schema', async () => {
    const tools = await toolMap();
    expect(tools.size).toBe(23);
    for (const [name, t] of tools) {
      expect(t.title, name).toBeTruthy();
      expect(t.annotations?.title, name).toBe(t.title);
      expect((t.description ?? '').length, name).toBeGreaterThan(20);
      expect(t.outputSchema?.type, name).toBe('object');
      expect(Object.keys(t.outputSchema?.properties ?? {}).length, name).toBeGreaterThan(0);
      expect(t.inputSchema.type, name).toBe('object');
      expect((t.inputSchema as { additionalProperties?: unknown }).additionalProperties, name).toBe(false);
    }
  });

  it('the server announces its instructions about pending and untrusted mail', async () => {
    const instructions = h.agent.client.getInstructions() ?? '';
    expect(instructions).toMatch(/pending/);
    expect(instructions).toMatch(/untrusted/);
  });
});

describe('tool name style', () => {
  it('default snake_case registers no dotted names', async () => {
    const all = [...(await toolMap()).keys()];
    expect(all.filter((n) => n.includes('.'))).toEqual([]);
    expect(all).toContain('queue_approve');
    expect(all).toContain('mail_wait');
  });

  it('tool_names "dotted" registers the MCPMail spellings (mail.send, queue.approve, mail.wait, ...) instead', async () => {
    const d = await startHarness({
      config: {
        tool_names: 'dotted',
        mailboxes: [
          { address: 'g@t.test', oversight_mode: 'gated_send' },
          { address: 'r@t.test', oversight_mode: 'autonomous' },
        ],
      },
    });
    try {
      const agent = (await d.agent.client.listTools()).tools.map((t) => t.name);
      const reviewer = (await d.reviewer.client.listTools()).tools.map((t) => t.name);
      expect(agent.sort()).toEqual(AGENT_TOOLS.map((n) => DOTTED[n]).sort());
      expect(reviewer.sort()).toEqual(REVIEWER_TOOLS.map((n) => DOTTED[n]).sort());
      expect(agent.concat(reviewer).every((n) => /^(mail|queue|audit|mailbox|contacts)\.[a-z]+$/.test(n))).toBe(true);
      // The dotted names work end to end; the snake names are gone.
      expect((await d.agent.call('send_email', { mailbox: 'g@t.test', to: 'r@t.test', subject: 's', text: 't' })).isError).toBe(true);
      const held = ok(await d.agent.call('mail.send', { mailbox: 'g@t.test', to: 'r@t.test', subject: 'dotted', text: 'hello' }));
      const snake = await d.reviewer.call('queue_approve', { message_id: held.message_id });
      expect(snake.isError).toBe(true);
      expect(ok(await d.reviewer.call('queue.approve', { message_id: held.message_id })).status).toBe('sent');
      const waited = ok(await d.agent.call('mail.wait', { message_id: held.message_id, timeout_seconds: 1 }));
      expect(waited.status).toBe('sent');
    } finally {
      await d.close();
    }
  });
});
