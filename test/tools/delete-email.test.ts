/**
 * delete_email on the sandbox through real SDK clients: to the Trash at once in an autonomous mailbox, held in
 * gated_all until a reviewer approves, refused in read_only, and a permanent delete only where the mailbox's
 * policy has allow_permanent_delete (else blocked, audited, nothing touched).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, inbox, ok, send, startHarness, textOf } from './harness.js';

const AUTO = 'auto@t.test';
const GA = 'ga@t.test';
const RO = 'ro@t.test';
const PURGE = 'purge@t.test';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    config: {
      mailboxes: [
        { address: AUTO, oversight_mode: 'autonomous' },
        { address: GA, oversight_mode: 'gated_all' },
        { address: RO, oversight_mode: 'read_only' },
        { address: PURGE, oversight_mode: 'autonomous', policy: { allow_permanent_delete: true } },
      ],
    },
  });
});
afterEach(async () => {
  await h?.close();
});

/** Delivers one email to `to` (sent from the autonomous mailbox) and returns its email_id. */
async function mailTo(to: string, subject = 'delete me'): Promise<string> {
  await send(h.agent, { mailbox: AUTO, to, subject });
  return (await inbox(h.agent, to)).find((e) => e.subject === subject)!.email_id as string;
}

const folder = async (mailbox: string, name: string) =>
  (ok(await h.agent.call('check_inbox', { mailbox, folder: name })).emails as { email_id: string }[]).map((e) => e.email_id);

describe('delete_email to the Trash', () => {
  it('moves the email to the Trash in an autonomous mailbox, audited as applied', async () => {
    const id = await mailTo(PURGE);
    const r = ok(await h.agent.call('delete_email', { email_id: id }));
    expect(r).toMatchObject({ status: 'applied', email_id: id, action_id: expect.stringMatching(/^act_/) });
    expect(await folder(PURGE, 'INBOX')).toEqual([]);
    expect(await folder(PURGE, 'Trash')).toEqual([id]);
    const events = await h.app.store.audit({ message_id: r.action_id, limit: 10 });
    expect(events.map((e) => e.action)).toEqual(['message.submitted', 'email.tagged']);
    expect(events[1]!.detail).toMatchObject({ action: { delete: 'trash' }, result: { moved_to: 'Trash' } });
  });

  it('is held in gated_all, applied only once a reviewer approves, and the reviewer is told what is asked', async () => {
    const id = await mailTo(GA);
    const r = ok(await h.agent.call('delete_email', { email_id: id }));
    expect(r).toMatchObject({ status: 'pending', reason: expect.stringMatching(/move to the Trash/) });
    await h.app.worker.tick();
    expect(await folder(GA, 'INBOX')).toEqual([id]);
    const approved = ok(await h.reviewer.call('decide_email', { message_id: r.action_id, action: 'approve' }));
    expect(approved).toMatchObject({ type: 'action', status: 'applied' });
    expect(await folder(GA, 'Trash')).toEqual([id]);
  });

  it('is refused in read_only and leaves the email where it is', async () => {
    await send(h.agent, { mailbox: AUTO, to: RO, subject: 'keep' });
    const id = (await h.app.store.listEmails({ mailbox: RO, folder: 'INBOX', unread_only: false, limit: 5 }))[0]!.email_id;
    const r = (await h.agent.call('delete_email', { email_id: id })).structuredContent!;
    expect(r).toMatchObject({ status: 'blocked', error: 'action_blocked', reason: expect.stringMatching(/read_only/) });
    expect(await folder(RO, 'INBOX')).toEqual([id]);
  });
});

describe('delete_email permanent', () => {
  it('is blocked where the policy does not allow it: audited, and the email stays', async () => {
    const id = await mailTo(AUTO);
    const r = (await h.agent.call('delete_email', { email_id: id, permanent: true })).structuredContent!;
    expect(r).toMatchObject({ status: 'blocked', error: 'action_blocked', reason: expect.stringMatching(/allow_permanent_delete/) });
    expect(await folder(AUTO, 'INBOX')).toContain(id);
    expect((await h.app.store.audit({ message_id: r.action_id, limit: 5 })).map((e) => e.action)).toEqual(['message.blocked']);
  });

  it('deletes the email for good where allow_permanent_delete is on', async () => {
    const id = await mailTo(PURGE);
    const r = ok(await h.agent.call('delete_email', { email_id: id, permanent: true }));
    expect(r).toMatchObject({ status: 'applied' });
    expect(await folder(PURGE, 'INBOX')).toEqual([]);
    expect(textOf(await h.agent.call('read_email', { email_id: id }))).toMatch(/UNKNOWN_EMAIL/);
    const events = await h.app.store.audit({ message_id: r.action_id, limit: 10 });
    expect(events.at(-1)).toMatchObject({ action: 'email.tagged', detail: expect.objectContaining({ result: expect.objectContaining({ deleted: true }) }) });
  });

  it('still holds for a person in gated_all even when allowed', async () => {
    ok(await h.operator.call('update_mailbox', { address: GA, policy: { allow_permanent_delete: true }, change_reason: 'cleanup' }));
    const id = await mailTo(GA);
    const r = ok(await h.agent.call('delete_email', { email_id: id, permanent: true }));
    expect(r).toMatchObject({ status: 'pending', reason: expect.stringMatching(/delete permanently/) });
    await h.app.worker.tick();
    expect(await folder(GA, 'INBOX')).toEqual([id]);
  });

  it('turning allow_permanent_delete on is a loosening: a session that can draft needs a person for it', async () => {
    const both = await h.connect(['agent', 'operator']);
    const r = await both.call('update_mailbox', { address: AUTO, policy: { allow_permanent_delete: true }, change_reason: 'purge' });
    expect(textOf(r)).toMatch(/CONFIRMATION_REQUIRED[\s\S]*allow_permanent_delete/);
    expect((await h.app.store.getMailbox(AUTO))!.policy).not.toHaveProperty('allow_permanent_delete');
  });
});
