/** Oversight modes, the mode aliases, auto-approve rules and the global switch, as an agent sees them. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, inbox, ok, send, snapshot, startHarness, textOf } from './harness.js';

const RO = 'ro@t.test';
const MON = 'mon@t.test';
const GA = 'ga@t.test';
const GS = 'gs@t.test';
const AUTO = 'auto@t.test';
const L2 = 'l2@t.test';
const SMART = 'smart@t.test';
const FLIP = 'flip@t.test';

// A fresh app and database per test, so no test sees another's mail or mode changes.
let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    config: {
      require_approval: false,
      tool_names: 'snake_case',
      mailboxes: [
        { address: RO, oversight_mode: 'read_only' },
        { address: MON, oversight_mode: 'monitored' },
        { address: GA, oversight_mode: 'gated_all' },
        { address: GS, oversight_mode: 'gated_send' },
        { address: AUTO, oversight_mode: 'autonomous' },
        { address: L2, autonomy_level: 2 },
        { address: SMART, approval_mode: 'smart', auto_approve_rules: [{ type: 'domain', match: 'partner.test' }] },
        { address: FLIP, oversight_mode: 'gated_send' },
      ],
    },
  });
});
afterEach(async () => {
  await h?.close();
});

async function status(id: string) {
  return ok(await h.agent.call('get_message', { message_id: id }));
}

describe('read_only', () => {
  it('refuses a send as action_blocked, naming the mode, and delivers nothing', async () => {
    const before = (await inbox(h.agent, AUTO)).length;
    const r = await h.agent.call('send_email', { mailbox: RO, to: AUTO, subject: 'Hi', text: 'x' });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ status: 'blocked', error: 'action_blocked' });
    expect(r.structuredContent?.reason).toMatch(/read_only/);
    expect(textOf(r)).toMatch(/action_blocked/);
    await h.app.worker.tick();
    expect(await inbox(h.agent, AUTO)).toHaveLength(before);
    expect((await status(r.structuredContent!.message_id)).status).toBe('blocked');
    expect((await h.app.store.listCaptured(100)).filter((c) => c.mailbox === RO)).toEqual([]);
  });

  it('still lets the agent read, but refuses tagging', async () => {
    await send(h.agent, { mailbox: AUTO, to: RO, subject: 'for the read-only box' });
    const [email] = await inbox(h.agent, RO);
    expect(email?.subject).toBe('for the read-only box');
    expect(ok(await h.agent.call('read_email', { email_id: email!.email_id })).text).toBe('Body text');
    const t = await h.agent.call('tag_email', { email_id: email!.email_id, add_flags: ['\\Flagged'] });
    expect(t.isError).toBe(true);
    expect(t.structuredContent).toMatchObject({ error: 'action_blocked' });
  });
});

describe('monitored and autonomous', () => {
  it('monitored sends at once and records a notification', async () => {
    const r = await send(h.agent, { mailbox: MON, to: AUTO, subject: 'monitored send' });
    expect(r.status).toBe('sent');
    expect((await inbox(h.agent, AUTO)).map((e) => e.subject)).toContain('monitored send');
    const events = ok(await h.reviewer.call('get_audit', { message_id: r.message_id })).events as { action: string }[];
    expect(events.map((e) => e.action)).toEqual(['message.submitted', 'message.notified', 'message.sent']);
  });

  it('autonomous sends at once', async () => {
    const r = await send(h.agent, { mailbox: AUTO, to: MON, subject: 'autonomous send' });
    expect(r).toEqual({ message_id: r.message_id, status: 'sent' });
    expect((await inbox(h.agent, MON)).map((e) => e.subject)).toContain('autonomous send');
  });
});

describe('tagging: a write', () => {
  it('gated_all holds tag_email until a reviewer approves it', async () => {
    await send(h.agent, { mailbox: AUTO, to: GA, subject: 'tag me (gated_all)' });
    const [email] = await inbox(h.agent, GA);
    const r = ok(await h.agent.call('tag_email', { email_id: email!.email_id, add_flags: ['\\Seen'] }));
    expect(r).toMatchObject({ status: 'pending', email_id: email!.email_id, action_id: expect.stringMatching(/^act_/) });
    expect((await inbox(h.agent, GA))[0]?.unread).toBe(true);
    const page = ok(await h.reviewer.call('list_pending', { mailbox: GA }));
    expect(page.messages).toEqual([]);
    expect(page.actions).toEqual([expect.objectContaining({ action_id: r.action_id, email_id: email!.email_id, add_flags: ['\\Seen'] })]);
    expect(ok(await h.reviewer.call('queue_approve', { message_id: r.action_id })).status).toBe('applied');
    expect((await inbox(h.agent, GA))[0]?.unread).toBe(false);
  });

  it('gated_all holds sends too', async () => {
    expect((await send(h.agent, { mailbox: GA, to: AUTO, subject: 'ga send' })).status).toBe('pending');
  });

  it('gated_send applies tag_email at once (move included)', async () => {
    await send(h.agent, { mailbox: AUTO, to: GS, subject: 'tag me (gated_send)' });
    const [email] = await inbox(h.agent, GS);
    const r = ok(await h.agent.call('tag_email', { email_id: email!.email_id, add_flags: ['\\Seen'], move_to: 'Archive' }));
    expect(r).toMatchObject({ status: 'applied', email_id: email!.email_id });
    expect(await inbox(h.agent, GS)).toEqual([]);
    const archived = ok(await h.agent.call('check_inbox', { mailbox: GS, folder: 'Archive' })).emails as Record<string, any>[];
    expect(archived).toEqual([expect.objectContaining({ email_id: email!.email_id, unread: false })]);
  });
});

describe('autonomy_level 2 (known contacts)', () => {
  it('holds a first contact, then sends once mail to that contact was approved and sent', async () => {
    const first = await send(h.agent, { mailbox: L2, to: AUTO, subject: 'first contact' });
    expect(first.status).toBe('pending');
    const stranger = await send(h.agent, { mailbox: L2, to: 'nobody@example.com', subject: 'stranger' });
    expect(stranger.status).toBe('pending');

    // Mail FROM the contact does not make it known: a From header is whatever the sender claims.
    await send(h.agent, { mailbox: AUTO, to: L2, subject: 'hello l2' });
    const stillHeld = await send(h.agent, { mailbox: L2, to: AUTO, subject: 'after their mail' });
    expect(stillHeld.status).toBe('pending');

    expect(ok(await h.reviewer.call('queue_approve', { message_id: first.message_id })).status).toBe('sent');
    const second = await send(h.agent, { mailbox: L2, to: AUTO, subject: 'now we know each other' });
    expect(second.status).toBe('sent');
    expect((await status(second.message_id)).gate).toMatchObject({ code: 'auto_approved', rule: 'known_contact' });
    // One known plus one unknown recipient is still a first contact.
    const mixed = await send(h.agent, { mailbox: L2, to: [AUTO, 'nobody@example.com'], subject: 'mixed' });
    expect(mixed.status).toBe('pending');
  });
});

describe('approval_mode smart with a domain rule', () => {
  it('auto-approves only when every recipient matches', async () => {
    const match = await send(h.agent, { mailbox: SMART, to: 'a@partner.test', subject: 'partner' });
    expect(match.status).toBe('sent');
    expect((await status(match.message_id)).gate).toMatchObject({ code: 'auto_approved', rule: 'domain:partner.test' });
    expect((await send(h.agent, { mailbox: SMART, to: 'b@other.test', subject: 'other' })).status).toBe('pending');
    expect((await send(h.agent, { mailbox: SMART, to: 'c@sub.partner.test', subject: 'subdomain' })).status).toBe('pending');
    expect((await send(h.agent, { mailbox: SMART, to: 'a@partner.test', cc: 'b@other.test', subject: 'mixed' })).status).toBe('pending');
    expect((await send(h.agent, { mailbox: SMART, to: 'a@partner.test', bcc: 'b@other.test', subject: 'bcc' })).status).toBe('pending');
  });
});

describe('update_mailbox', () => {
  it('requires change_reason and changes nothing without one', async () => {
    const before = await snapshot(h.app);
    const missing = await h.operator.call('update_mailbox', { address: FLIP, oversight_mode: 'autonomous' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/change_reason/);
    const blank = await h.operator.call('update_mailbox', { address: FLIP, oversight_mode: 'autonomous', change_reason: '   ' });
    expect(blank.isError).toBe(true);
    expect(textOf(blank)).toMatch(/change_reason/);
    expect((await h.app.store.getMailbox(FLIP))?.oversight_mode).toBe('gated_send');
    expect(await snapshot(h.app)).toEqual(before);
  });

  it('gated_send -> autonomous leaves held mail pending and applies to new sends only', async () => {
    const held = await send(h.agent, { mailbox: FLIP, to: AUTO, subject: 'held before the change' });
    expect(held.status).toBe('pending');
    const r = ok(await h.operator.call('update_mailbox', { address: FLIP, oversight_mode: 'autonomous', change_reason: 'trusted now' }));
    expect(r).toMatchObject({ oversight_mode: 'autonomous', changed: expect.arrayContaining(['oversight_mode']), pending_unaffected: 1 });
    expect((await status(held.message_id)).status).toBe('pending');
    await h.app.worker.tick();
    expect((await status(held.message_id)).status).toBe('pending');
    const page = ok(await h.reviewer.call('list_pending', { mailbox: FLIP }));
    expect(page.messages.map((m: { message_id: string }) => m.message_id)).toEqual([held.message_id]);
    expect((await inbox(h.agent, AUTO)).map((e) => e.subject)).not.toContain('held before the change');
    expect((await send(h.agent, { mailbox: FLIP, to: AUTO, subject: 'after the change' })).status).toBe('sent');
    const events = ok(await h.operator.call('get_audit', { mailbox: FLIP })).events as Record<string, any>[];
    const change = events.find((e) => e.action === 'mailbox.mode_changed');
    expect(change?.actor).toMatch(/^mcp:operator/);
    expect(change?.detail).toMatchObject({
      reason: 'trusted now',
      pending_unaffected: 1,
      changes: { oversight_mode: { from: 'gated_send', to: 'autonomous' } },
    });
  });

  it('list_mailboxes shows each mode and where it came from', async () => {
    const all = ok(await h.operator.call('list_mailboxes', {})).mailboxes as Record<string, any>[];
    const by = new Map(all.map((m) => [m.address, m]));
    expect(by.get(L2)).toMatchObject({ oversight_mode: 'gated_send', mode_source: 'autonomy_level=2', auto_approve_rules: [{ type: 'known_contact' }] });
    expect(by.get(SMART)).toMatchObject({ mode_source: 'approval_mode=smart', auto_approve_rules: [{ type: 'domain', match: 'partner.test' }] });
    // The default 72h expiry, displayed in its largest whole unit.
    expect(by.get(RO)).toMatchObject({ oversight_mode: 'read_only', pending_ttl: '72h' });
  });
});

describe('require_approval: true', () => {
  it('holds an autonomous mailbox’s send; read_only stays blocked', async () => {
    const g = await startHarness({
      config: {
        require_approval: true,
        mailboxes: [
          { address: 'free@t.test', oversight_mode: 'autonomous' },
          { address: 'ro@t.test', oversight_mode: 'read_only' },
        ],
      },
    });
    try {
      const r = await send(g.agent, { mailbox: 'free@t.test', to: 'ro@t.test', subject: 'needs a human' });
      expect(r.status).toBe('pending');
      expect(r.reason).toMatch(/require_approval/);
      expect(await inbox(g.agent, 'ro@t.test')).toEqual([]);
      expect(ok(await g.reviewer.call('queue_approve', { message_id: r.message_id })).status).toBe('sent');
      expect(await inbox(g.agent, 'ro@t.test')).toHaveLength(1);
      const blocked = await g.agent.call('send_email', { mailbox: 'ro@t.test', to: 'free@t.test', subject: 's', text: 't' });
      expect(blocked.isError).toBe(true);
      expect(blocked.structuredContent).toMatchObject({ error: 'action_blocked' });
    } finally {
      await g.close();
    }
  });
});
