/**
 * Principals bound to mailboxes, attacked through a real SDK client: a session bound to support@ tries every
 * tool of its role on ceo@'s and legal@'s mailbox, mail and messages. Each attempt must fail exactly as an
 * unknown address or id fails (same code, same text but for the id), change nothing, and leave an authz.denied
 * event naming who, through which tool, at what.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportAudit } from '../../src/services/audit-export.js';
import type { Principal } from '../../src/services/context.js';
import { suppress, unsuppress } from '../../src/services/policy.js';
import { addWebhook, listWebhooks, removeWebhook } from '../../src/services/webhooks.js';
import { WebhookConfig } from '../../src/webhooks/schema.js';
import { deniedSince, type Harness, inbox, lastSeq, ok, send, snapshot, startHarness, textOf, type ToolClient } from './harness.js';

const SUPPORT = 'support@acme.test';
const CEO = 'ceo@acme.test';
const LEGAL = 'legal@acme.test';
const UNKNOWN_EMAIL = 'em_AAAAAAAAAAAAAAAAAAAA';
const UNKNOWN_MESSAGE = 'msg_AAAAAAAAAAAAAAAAAAAA';

let h: Harness;
let agent: ToolClient;
let reviewer: ToolClient;
let operator: ToolClient;
let ceoEmail: string;
let legalHeld: string;
let supportHeld: string;

// A fresh app and database per test: what one test sends or changes, no other test sees.
beforeEach(async () => {
  h = await startHarness({
    config: {
      mailboxes: [
        { address: SUPPORT, oversight_mode: 'gated_send' },
        { address: CEO, oversight_mode: 'autonomous' },
        { address: LEGAL, oversight_mode: 'gated_send' },
      ],
    },
  });
  // Another principal's mail: delivered to every inbox, and a draft held in legal@.
  await send(h.agent, { mailbox: CEO, to: [SUPPORT, CEO, LEGAL], subject: 'Board notes', text: 'Confidential numbers' });
  ceoEmail = (await inbox(h.agent, CEO))[0]!.email_id as string;
  legalHeld = (await send(h.agent, { mailbox: LEGAL, to: 'counsel@example.com', subject: 'Settlement' })).message_id as string;
  agent = await h.connect(['agent'], 'support-agent', [SUPPORT]);
  reviewer = await h.connect(['reviewer'], 'support-reviewer', [SUPPORT]);
  operator = await h.connect(['operator'], 'support-operator', [SUPPORT]);
  supportHeld = (await send(agent, { mailbox: SUPPORT, to: 'customer@example.com', subject: 'Your ticket' })).message_id as string;
});
afterEach(async () => {
  await h?.close();
});

/** The call fails as the same call on an unknown target does, once the target itself is blanked out. */
async function refusedLikeUnknown(c: ToolClient, tool: string, foreign: Record<string, unknown>, unknown: Record<string, unknown>): Promise<void> {
  const a = await c.call(tool, foreign);
  const b = await c.call(tool, unknown);
  expect(a.isError, `${tool} on a foreign target`).toBe(true);
  expect(b.isError, `${tool} on an unknown target`).toBe(true);
  const blank = (text: string, values: Record<string, unknown>) =>
    Object.values(values)
      .filter((v): v is string => typeof v === 'string')
      .reduce((t, v) => t.split(v).join('<target>'), text);
  expect(blank(textOf(a), foreign)).toBe(blank(textOf(b), unknown));
}

describe('an agent bound to support@', () => {
  it('cannot send, read, search, reply, tag, cancel, fetch or wait on anything of another mailbox', async () => {
    const before = await snapshot(h.app);
    const seq = await lastSeq(h.app);
    const attacks: [string, Record<string, unknown>, Record<string, unknown>][] = [
      [
        'send_email',
        { mailbox: CEO, to: 'bank@example.com', subject: 'Wire', text: 'Pay now' },
        { mailbox: 'nobody@acme.test', to: 'bank@example.com', subject: 'Wire', text: 'Pay now' },
      ],
      ['check_inbox', { mailbox: CEO }, { mailbox: 'nobody@acme.test' }],
      ['search_email', { mailbox: LEGAL, query: 'Board' }, { mailbox: 'nobody@acme.test', query: 'Board' }],
      ['read_email', { email_id: ceoEmail }, { email_id: UNKNOWN_EMAIL }],
      ['reply_email', { email_id: ceoEmail, text: 'Approved, pay it' }, { email_id: UNKNOWN_EMAIL, text: 'Approved, pay it' }],
      ['tag_email', { email_id: ceoEmail, add_flags: ['\\Seen'] }, { email_id: UNKNOWN_EMAIL, add_flags: ['\\Seen'] }],
      ['get_message', { message_id: legalHeld }, { message_id: UNKNOWN_MESSAGE }],
      ['cancel_message', { message_id: legalHeld }, { message_id: UNKNOWN_MESSAGE }],
      ['mail_wait', { message_id: legalHeld, timeout_seconds: 1 }, { message_id: UNKNOWN_MESSAGE, timeout_seconds: 1 }],
    ];
    for (const [tool, foreign, unknown] of attacks) await refusedLikeUnknown(agent, tool, foreign, unknown);
    expect(await snapshot(h.app)).toEqual(before);
    const legal = await h.app.store.getMessage(legalHeld);
    expect(legal?.status).toBe('pending');

    // One audit event per refused attempt (the unknown targets are not refusals), naming tool, target and owner.
    const denied = await deniedSince(h.app, seq);
    expect(denied.map((e) => e.detail.via)).toEqual(attacks.map(([tool]) => tool));
    for (const e of denied) {
      expect(e.actor).toBe('mcp:agent/support-agent');
      expect([CEO, LEGAL]).toContain(e.mailbox);
      expect([CEO, LEGAL, ceoEmail, legalHeld]).toContain(e.detail.target);
    }
  });

  it('sees only its own mailbox in list_pending, the unknown-mailbox hint, the instructions and tool descriptions', async () => {
    const page = ok(await agent.call('list_pending', {}));
    expect(page.messages.map((m: { message_id: string }) => m.message_id)).toEqual([supportHeld]);
    const r = await agent.call('send_email', { mailbox: 'typo@acme.test', to: 'x@example.com', subject: 's', text: 't' });
    expect(textOf(r)).toContain(`known mailboxes: ${SUPPORT}`);
    expect(textOf(r)).not.toMatch(/ceo@|legal@/);
    const instructions = agent.client.getInstructions() ?? '';
    expect(instructions).toContain(SUPPORT);
    expect(instructions).not.toMatch(/ceo@|legal@/);
    const tools = (await agent.client.listTools()).tools;
    const sendTool = tools.find((t) => t.name === 'send_email')!;
    expect(sendTool.description).toContain(`This session may use only: ${SUPPORT}`);
    expect(JSON.stringify(tools)).not.toMatch(/ceo@|legal@/);
  });

  it('still does its own work: reads, replies and its sends are held as before', async () => {
    const own = (await inbox(agent, SUPPORT))[0]!;
    expect(own.subject).toBe('Board notes');
    expect(ok(await agent.call('read_email', { email_id: own.email_id })).subject).toBe('Board notes');
    const reply = ok(await agent.call('reply_email', { email_id: own.email_id, text: 'Thanks' }));
    expect(reply.status).toBe('pending');
    expect(ok(await agent.call('get_message', { message_id: reply.message_id })).mailbox).toBe(SUPPORT);
  });
});

describe('a reviewer bound to support@', () => {
  it("cannot decide, read the audit trail of, or even see legal@'s held mail", async () => {
    const seq = await lastSeq(h.app);
    const page = ok(await reviewer.call('list_pending', {}));
    expect(page.messages.every((m: { mailbox: string }) => m.mailbox === SUPPORT)).toBe(true);
    await refusedLikeUnknown(reviewer, 'queue_approve', { message_id: legalHeld }, { message_id: UNKNOWN_MESSAGE });
    await refusedLikeUnknown(reviewer, 'decide_email', { message_id: legalHeld, action: 'approve' }, { message_id: UNKNOWN_MESSAGE, action: 'approve' });
    await refusedLikeUnknown(reviewer, 'queue_reject', { message_id: legalHeld, reason: 'no' }, { message_id: UNKNOWN_MESSAGE, reason: 'no' });
    await refusedLikeUnknown(reviewer, 'get_audit', { message_id: legalHeld }, { message_id: UNKNOWN_MESSAGE });
    await refusedLikeUnknown(reviewer, 'list_pending', { mailbox: LEGAL }, { mailbox: 'nobody@acme.test' });
    expect((await h.app.store.getMessage(legalHeld))?.status).toBe('pending');
    expect((await deniedSince(h.app, seq)).map((e) => e.detail.via)).toEqual(['queue_approve', 'decide_email', 'queue_reject', 'get_audit', 'list_pending']);

    // The whole audit log, as it sees it, is support@'s alone: no other mailbox's events and none of no mailbox.
    const events = ok(await reviewer.call('get_audit', { limit: 500 })).events as { mailbox: string | null }[];
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.mailbox === SUPPORT)).toBe(true);
    // And it decides its own mailbox's mail as before.
    expect(ok(await reviewer.call('queue_approve', { message_id: supportHeld })).status).toBe('sent');
  });
});

describe('an operator bound to support@', () => {
  it('lists and changes only support@, and cannot create mailboxes', async () => {
    expect(ok(await operator.call('list_mailboxes', {})).mailboxes.map((m: { address: string }) => m.address)).toEqual([SUPPORT]);
    const seq = await lastSeq(h.app);
    await refusedLikeUnknown(
      operator,
      'update_mailbox',
      { address: CEO, oversight_mode: 'read_only', change_reason: 'x' },
      { address: 'nobody@acme.test', oversight_mode: 'read_only', change_reason: 'x' },
    );
    expect((await h.app.store.getMailbox(CEO))?.oversight_mode).toBe('autonomous');
    const created = await operator.call('create_mailbox', { address: 'new@acme.test', oversight_mode: 'autonomous' });
    expect(created.isError).toBe(true);
    expect(textOf(created)).toMatch(/^FORBIDDEN: creating a mailbox needs a principal of every mailbox/);
    expect(await h.app.store.getMailbox('new@acme.test')).toBeUndefined();
    expect((await deniedSince(h.app, seq)).map((e) => e.detail.via)).toEqual(['update_mailbox', 'create_mailbox']);
    const tightened = ok(await operator.call('update_mailbox', { address: SUPPORT, oversight_mode: 'read_only', change_reason: 'incident' }));
    expect(tightened.oversight_mode).toBe('read_only');
  });
});

describe('the services behind the CLI honour a bound principal too', () => {
  const bound: Principal = { id: 'token:support-ops', roles: ['reviewer', 'operator'], mailboxes: [SUPPORT] };

  it("audit export holds only the principal's mailboxes, and names another as unknown", async () => {
    const records: Record<string, unknown>[] = [];
    for await (const r of exportAudit(h.app, bound, {})) records.push(r);
    const messages = records.filter((r) => r.type === 'message');
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.every((m) => m.mailbox === SUPPORT)).toBe(true);
    const other = exportAudit(h.app, bound, { mailbox: LEGAL });
    await expect(other.next()).rejects.toMatchObject({ code: 'UNKNOWN_MAILBOX' });
  });

  it('webhooks: only endpoints of its mailboxes are listed, added or removed', async () => {
    const all: Principal = { id: 'cli:ops', roles: ['operator'], mailboxes: 'all' };
    const hook = (path: string, mailbox?: string) =>
      WebhookConfig.parse({ url: `https://hooks.example/${path}`, secret: `whsec_${Buffer.alloc(24, 7).toString('base64')}`, mailbox });
    const mine = await addWebhook(h.app, bound, hook('support', SUPPORT));
    const theirs = await addWebhook(h.app, all, hook('legal', LEGAL));
    await expect(addWebhook(h.app, bound, hook('all'))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(addWebhook(h.app, bound, hook('ceo', CEO))).rejects.toMatchObject({ code: 'UNKNOWN_MAILBOX' });
    expect((await listWebhooks(h.app, bound, { include_disabled: false })).map((e) => e.endpoint_id)).toEqual([mine.endpoint_id]);
    await expect(removeWebhook(h.app, bound, theirs.endpoint_id, null)).rejects.toThrow(
      `no active webhook endpoint '${theirs.endpoint_id}'; active: ${mine.endpoint_id}`,
    );
    expect((await listWebhooks(h.app, all, { include_disabled: false })).map((e) => e.endpoint_id)).toContain(theirs.endpoint_id);
    expect((await removeWebhook(h.app, bound, mine.endpoint_id, 'done')).disabled_at).not.toBeNull();
  });

  it("suppressions: its own mailbox's list only; the list of every mailbox needs every mailbox", async () => {
    await expect(unsuppress(h.app, bound, { entry: 'blocked.example' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(suppress(h.app, bound, { entry: 'x@example.com', mailbox: CEO })).rejects.toMatchObject({ code: 'UNKNOWN_MAILBOX' });
    expect((await suppress(h.app, bound, { entry: 'x@example.com', mailbox: SUPPORT })).added).toBe(true);
  });
});
