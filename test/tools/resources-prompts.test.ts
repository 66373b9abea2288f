/**
 * MCP resources and prompts (issue 11): the queue and mailbox status as resources a client can show and
 * subscribe to, and the "review pending" / "answer unread" prompts; all limited to the session's mailboxes.
 * Real SDK clients over in-memory transports against a real app.
 */
import { ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, type ToolClient, ok, send, startHarness } from './harness.js';

const SUPPORT = 'support@t.test';
const CEO = 'ceo@t.test';
let h: Harness;
let scoped: ToolClient;

beforeAll(async () => {
  // As a server runs: the store's change signals reach the sessions.
  h = await startHarness({
    background: true,
    config: {
      mailboxes: [
        { address: SUPPORT, oversight_mode: 'gated_send' },
        { address: CEO, oversight_mode: 'gated_send' },
      ],
    },
  });
  scoped = await h.connect(['agent'], 'scoped-agent', [SUPPORT]);
});
afterAll(async () => {
  await h.close();
});

const readJson = async (c: ToolClient, uri: string) => JSON.parse(((await c.client.readResource({ uri })).contents[0] as { text: string }).text);

describe('resources', () => {
  it("list the queue and the session's own mailboxes only", async () => {
    const all = (await h.agent.client.listResources()).resources.map((r) => r.uri).sort();
    expect(all).toEqual(['mailgate://mailbox/ceo%40t.test', 'mailgate://mailbox/support%40t.test', 'mailgate://pending']);
    const own = (await scoped.client.listResources()).resources.map((r) => r.uri).sort();
    expect(own).toEqual(['mailgate://mailbox/support%40t.test', 'mailgate://pending']);
  });

  it('the queue shows what list_pending shows, within the session', async () => {
    const mine = await send(h.agent, { mailbox: SUPPORT, to: 'someone@example.com', subject: 'support reply' });
    const theirs = await send(h.agent, { mailbox: CEO, to: 'someone@example.com', subject: 'board letter' });
    const everything = await readJson(h.reviewer, 'mailgate://pending');
    expect(everything.messages.map((m: { message_id: string }) => m.message_id)).toEqual(expect.arrayContaining([mine.message_id, theirs.message_id]));
    const own = await readJson(scoped, 'mailgate://pending');
    const ids = own.messages.map((m: { message_id: string }) => m.message_id);
    expect(ids).toContain(mine.message_id);
    expect(ids).not.toContain(theirs.message_id);
    const listed = ok(await scoped.call('list_pending', {})).messages.map((m: { message_id: string }) => m.message_id);
    expect(ids.sort()).toEqual(listed.sort());
  });

  it("a mailbox's status, and another mailbox's URI reads as not found", async () => {
    const status = await readJson(scoped, 'mailgate://mailbox/support%40t.test');
    expect(status).toMatchObject({ address: SUPPORT, oversight_mode: 'gated_send' });
    expect(status.pending).toBeGreaterThanOrEqual(1);
    await expect(scoped.client.readResource({ uri: 'mailgate://mailbox/ceo%40t.test' })).rejects.toThrow(/no mailbox at mailgate:\/\/mailbox\/ceo/);
  });

  it('a subscriber is told when the queue changes, and a decision changes it again', async () => {
    const watcher = await h.connect(['reviewer'], 'watcher');
    const seen: string[] = [];
    let wake: () => void = () => undefined;
    watcher.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      seen.push(n.params.uri);
      wake();
    });
    const next = () => new Promise<void>((r) => (wake = r));
    await watcher.client.subscribeResource({ uri: 'mailgate://pending' });
    let arrived = next();
    const held = await send(h.agent, { mailbox: SUPPORT, to: 'someone@example.com', subject: 'watch me' });
    await arrived;
    expect(seen).toContain('mailgate://pending');
    expect((await readJson(watcher, 'mailgate://pending')).messages.map((m: { subject: string }) => m.subject)).toContain('watch me');
    seen.length = 0;
    arrived = next();
    ok(await h.reviewer.call('queue_reject', { message_id: held.message_id, reason: 'no' }));
    await arrived;
    expect(seen).toEqual(['mailgate://pending']);
    await watcher.client.unsubscribeResource({ uri: 'mailgate://pending' });
  });
});

describe('resource list changes', () => {
  it('a mailbox created elsewhere: the client is told the list changed, and the new mailbox is listed', async () => {
    const watcher = await h.connect(['operator'], 'list-watcher');
    let changed: () => void = () => undefined;
    const told = new Promise<void>((r) => (changed = r));
    watcher.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => changed());
    ok(await h.operator.call('create_mailbox', { address: 'new@t.test' }));
    await told;
    expect((await watcher.client.listResources()).resources.map((r) => r.uri)).toContain('mailgate://mailbox/new%40t.test');
  });
});

describe('prompts', () => {
  it('are listed for every role', async () => {
    for (const c of [h.agent, h.reviewer, h.operator]) {
      expect((await c.client.listPrompts()).prompts.map((p) => p.name).sort()).toEqual(['answer_unread', 'review_pending']);
    }
  });

  it('review_pending starts from the queue and keeps the decision with the person', async () => {
    await send(h.agent, { mailbox: SUPPORT, to: 'someone@example.com', subject: 'in the prompt' });
    const p = await scoped.client.getPrompt({ name: 'review_pending', arguments: {} });
    const [text, queue] = p.messages;
    expect(text!.content).toMatchObject({ type: 'text', text: expect.stringMatching(/Do not approve or reject anything\s+until I say so/) });
    expect(queue!.content).toMatchObject({ type: 'resource', resource: { uri: 'mailgate://pending', text: expect.stringContaining('in the prompt') } });
    expect(JSON.stringify(queue!.content)).not.toContain('board letter'); // another mailbox's held mail
  });

  it("review_pending for another mailbox than the session's is refused", async () => {
    await expect(scoped.client.getPrompt({ name: 'review_pending', arguments: { mailbox: CEO } })).rejects.toThrow(/ceo@t\.test|mailbox/i);
  });

  it('answer_unread names the mailbox and the tools to use', async () => {
    const p = await h.agent.client.getPrompt({ name: 'answer_unread', arguments: { mailbox: SUPPORT } });
    expect(p.messages[0]!.content).toMatchObject({ text: expect.stringContaining(`unread mail in ${SUPPORT}`) });
    expect(JSON.stringify(p.messages)).toMatch(/check_inbox.*reply_email.*pending/s);
  });
});
