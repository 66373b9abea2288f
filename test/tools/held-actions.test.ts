/**
 * Held mailbox actions (tag_email in gated_all) as their own record: held with an act_ id, listed apart from
 * held mail, decided by a reviewer with the same tools, applied by the worker (never before approval), and
 * invisible to a principal of another mailbox.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, inbox, ok, send, startHarness, textOf } from './harness.js';

const GA = 'ga@t.test';
const OTHER = 'other@t.test';
const AUTO = 'auto@t.test';

let h: Harness;
let emailId: string;
beforeEach(async () => {
  h = await startHarness({
    config: {
      mailboxes: [
        { address: GA, oversight_mode: 'gated_all' },
        { address: OTHER, oversight_mode: 'gated_all' },
        { address: AUTO, oversight_mode: 'autonomous' },
      ],
    },
  });
  await send(h.agent, { mailbox: AUTO, to: GA, subject: 'flag me' });
  emailId = (await inbox(h.agent, GA))[0]!.email_id as string;
});
afterEach(async () => {
  await h?.close();
});

async function hold(): Promise<string> {
  const r = ok(await h.agent.call('tag_email', { email_id: emailId, add_flags: ['\\Flagged'], move_to: 'Archive' }));
  expect(r).toMatchObject({ status: 'pending', action_id: expect.stringMatching(/^act_/), email_id: emailId });
  expect(r).not.toHaveProperty('message_id');
  return r.action_id as string;
}

describe('a held mailbox action', () => {
  it('is its own record: no outbound message, approved by a reviewer, then applied', async () => {
    const id = await hold();
    expect(await h.app.store.listMessages({ mailbox: GA })).toEqual([]);
    await h.app.worker.tick();
    expect((await inbox(h.agent, GA)).map((e) => e.email_id)).toEqual([emailId]);
    const got = ok(await h.agent.call('get_message', { message_id: id }));
    expect(got).toMatchObject({
      type: 'action',
      message_id: id,
      status: 'pending',
      thread_changes: [],
      action: { email_id: emailId, add_flags: ['\\Flagged'], move_to: 'Archive' },
      history: [expect.objectContaining({ action: 'message.held' })],
    });
    const approved = ok(await h.reviewer.call('decide_email', { message_id: id, action: 'approve' }));
    expect(approved).toMatchObject({ type: 'action', status: 'applied', decided_by: expect.stringMatching(/reviewer/) });
    expect(await inbox(h.agent, GA)).toEqual([]);
    const archived = ok(await h.agent.call('check_inbox', { mailbox: GA, folder: 'Archive' })).emails as { email_id: string }[];
    expect(archived.map((e) => e.email_id)).toEqual([emailId]);
    const waited = ok(await h.agent.call('mail_wait', { message_id: id, timeout_seconds: 2 }));
    expect(waited).toMatchObject({ message_id: id, status: 'applied', timed_out: false, reply: null });
    expect((await h.app.store.audit({ message_id: id, limit: 10 })).map((e) => e.action)).toEqual(['message.held', 'message.approved', 'email.tagged']);
  });

  it('rejected is never applied, and cannot be approved afterwards', async () => {
    const id = await hold();
    expect(ok(await h.reviewer.call('queue_reject', { message_id: id, reason: 'keep it in the inbox' }))).toMatchObject({
      status: 'rejected',
      decision_reason: 'keep it in the inbox',
    });
    await h.app.worker.tick();
    expect((await inbox(h.agent, GA)).map((e) => e.email_id)).toEqual([emailId]);
    const again = await h.reviewer.call('queue_approve', { message_id: id });
    expect(textOf(again)).toMatch(/NOT_PENDING/);
    const waited = ok(await h.agent.call('mail_wait', { message_id: id, timeout_seconds: 2 }));
    expect(waited).toMatchObject({ status: 'rejected', reason: 'keep it in the inbox', timed_out: false });
  });

  it('expires like held mail, and is then never applied', async () => {
    const id = await hold();
    const a = (await h.app.store.getAction(id))!;
    expect(await h.app.store.expireDueActions(a.expires_at! + 1, 10)).toEqual([expect.objectContaining({ action_id: id, status: 'expired' })]);
    expect(textOf(await h.reviewer.call('queue_approve', { message_id: id }))).toMatch(/NOT_PENDING.*expired/);
    await h.app.worker.tick();
    expect((await inbox(h.agent, GA)).map((e) => e.email_id)).toEqual([emailId]);
    expect(ok(await h.reviewer.call('list_pending', {})).actions).toEqual([]);
  });

  it('can be cancelled by the agent that asked for it, and takes no edits', async () => {
    const id = await hold();
    expect(textOf(await h.reviewer.call('queue_approve', { message_id: id, edits: { subject: 'x' } }))).toMatch(/edits.*no content to edit/);
    expect(ok(await h.agent.call('cancel_message', { message_id: id }))).toMatchObject({ type: 'action', status: 'cancelled' });
  });

  it('of another mailbox answers as an unknown id', async () => {
    const id = await hold();
    const bound = await h.connect(['reviewer'], 'other-reviewer', [OTHER]);
    const boundAgent = await h.connect(['agent'], 'other-agent', [OTHER]);
    const unknown = 'act_AAAAAAAAAAAAAAAAAAAA';
    for (const [c, tool, args] of [
      [bound, 'queue_approve', {}],
      [bound, 'queue_reject', { reason: 'no' }],
      [boundAgent, 'get_message', {}],
      [boundAgent, 'mail_wait', { timeout_seconds: 1 }],
      [boundAgent, 'cancel_message', {}],
    ] as const) {
      const a = textOf(await c.call(tool, { message_id: id, ...args }));
      const b = textOf(await c.call(tool, { message_id: unknown, ...args }));
      expect(a.split(id).join('<id>'), tool).toBe(b.split(unknown).join('<id>'));
      expect(a).toMatch(/UNKNOWN_MESSAGE/);
    }
    expect(ok(await bound.call('list_pending', {})).actions).toEqual([]);
    expect((await h.app.store.getAction(id))!.status).toBe('pending');
  });

  it('an id that is neither msg_ nor act_ is refused with what is expected', async () => {
    expect(textOf(await h.agent.call('get_message', { message_id: 'em_AAAAAAAAAAAAAAAAAAAA' }))).toMatch(/msg_.*act_/);
  });
});
