/**
 * send_email / reply_email `metadata` (issue 11), through real SDK clients: it comes back from list_pending,
 * get_message, the decision tools and the audit export, and list_pending filters by it and by status, never
 * past a session's mailboxes. Bad filters are refused naming the field.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportAudit } from '../../src/services/audit-export.js';
import type { Principal } from '../../src/services/context.js';
import { type Harness, inbox, ok, send, startHarness, textOf, type ToolClient } from './harness.js';

const SUPPORT = 'support@acme.test';
const CEO = 'ceo@acme.test';
const AUDITOR: Principal = { id: 'cli:auditor', roles: ['reviewer', 'operator'], mailboxes: 'all' };

let h: Harness;
// Each draft a second after the last, so "newest first" is one order and not a tie broken by random ids.
let now = 0;
let serial = 0;
beforeEach(async () => {
  now = Date.parse('2026-12-01T09:00:00Z');
  h = await startHarness({
    clock: () => now,
    config: {
      mailboxes: [
        { address: SUPPORT, oversight_mode: 'gated_send' },
        { address: CEO, oversight_mode: 'gated_send' },
      ],
    },
  });
});
afterEach(async () => {
  await h?.close();
});

async function hold(c: ToolClient, mailbox: string, metadata?: Record<string, unknown>): Promise<string> {
  now += 1000;
  return (await send(c, { mailbox, to: 'customer@example.com', subject: `draft ${++serial}`, ...(metadata ? { metadata } : {}) })).message_id as string;
}
const listed = async (c: ToolClient, args: Record<string, unknown>) => ok(await c.call('list_pending', args)).messages as Record<string, any>[];
const ids = async (c: ToolClient, args: Record<string, unknown>) => (await listed(c, args)).map((m) => m.message_id as string);

describe('metadata round trip', () => {
  it('list_pending, get_message, the decision result and the audit export show what the agent attached', async () => {
    const meta = { ticket: 'T-7', priority: 2, vip: true };
    const id = await hold(h.agent, SUPPORT, meta);
    const plain = await hold(h.agent, SUPPORT);

    const items = await listed(h.reviewer, {});
    expect(items.find((m) => m.message_id === id)).toMatchObject({ status: 'pending', metadata: meta });
    expect(items.find((m) => m.message_id === plain)!.metadata).toBeNull();
    expect(ok(await h.agent.call('get_message', { message_id: id })).metadata).toEqual(meta);

    const decided = ok(await h.reviewer.call('queue_approve', { message_id: id }));
    expect(decided).toMatchObject({ message_id: id, metadata: meta });
    expect(ok(await h.agent.call('get_message', { message_id: plain })).metadata).toBeNull();

    const records: Record<string, any>[] = [];
    for await (const r of exportAudit(h.app, AUDITOR, {})) records.push(r);
    expect(records.find((r) => r.message_id === id)!.metadata).toEqual(meta);
    expect(records.find((r) => r.message_id === plain)!.metadata).toBeNull();
  });

  it('reply_email takes metadata too', async () => {
    await send(h.agent, { mailbox: CEO, to: SUPPORT, subject: 'a question' });
    await h.reviewer.call('queue_approve', { message_id: (await listed(h.reviewer, { mailbox: CEO }))[0]!.message_id });
    const email = (await inbox(h.agent, SUPPORT))[0]!;
    const r = ok(await h.agent.call('reply_email', { email_id: email.email_id, text: 'an answer', metadata: { case: 'C-1', step: 3 } }));
    expect(ok(await h.agent.call('get_message', { message_id: r.message_id })).metadata).toEqual({ case: 'C-1', step: 3 });
    expect(await ids(h.reviewer, { metadata: { case: 'C-1' } })).toEqual([r.message_id]);
  });
});

describe('list_pending filters', () => {
  it('matches every metadata pair as JSON scalars; no match is an empty page', async () => {
    const a = await hold(h.agent, SUPPORT, { ticket: 'T-1', team: 'billing' });
    const b = await hold(h.agent, SUPPORT, { ticket: 'T-2', team: 'billing' });
    await hold(h.agent, SUPPORT, { ticket: 7 });
    await hold(h.agent, SUPPORT);
    expect(await ids(h.reviewer, { metadata: { ticket: 'T-1' } })).toEqual([a]);
    expect(await ids(h.reviewer, { metadata: { team: 'billing' } })).toEqual([a, b]);
    expect(await ids(h.reviewer, { metadata: { team: 'billing', ticket: 'T-2' } })).toEqual([b]);
    expect(await ids(h.reviewer, { metadata: { team: 'billing', ticket: 'T-3' } })).toEqual([]);
    expect(await ids(h.reviewer, { metadata: { ticket: '7' } })).toEqual([]);
    expect(await ids(h.reviewer, { metadata: { ticket: 7 } })).toHaveLength(1);
    expect(ok(await h.reviewer.call('list_pending', { metadata: { team: 'billing' } })).next_cursor).toBeNull();
  });

  it('lists another status, or any, newest first; the default stays the held queue', async () => {
    const sent = await hold(h.agent, SUPPORT, { run: 'r1' });
    const rejected = await hold(h.agent, SUPPORT, { run: 'r1' });
    const held = await hold(h.agent, SUPPORT, { run: 'r1' });
    ok(await h.reviewer.call('queue_approve', { message_id: sent }));
    ok(await h.reviewer.call('queue_reject', { message_id: rejected, reason: 'not now' }));

    expect(await ids(h.reviewer, {})).toEqual([held]);
    const rej = await listed(h.reviewer, { status: 'rejected' });
    expect(rej.map((m) => [m.message_id, m.status])).toEqual([[rejected, 'rejected']]);
    expect((await listed(h.reviewer, { status: 'sent' })).map((m) => m.message_id)).toEqual([sent]);
    expect(await ids(h.reviewer, { status: 'any', metadata: { run: 'r1' } })).toEqual([held, rejected, sent]);
    expect(ok(await h.reviewer.call('list_pending', { status: 'any' })).actions).toEqual([]);

    // Paged two at a time, the cursor carries on in the same order.
    const first = ok(await h.reviewer.call('list_pending', { status: 'any', limit: 2 }));
    const second = ok(await h.reviewer.call('list_pending', { status: 'any', limit: 2, cursor: first.next_cursor }));
    expect([...first.messages, ...second.messages].map((m: Record<string, any>) => m.message_id)).toEqual([held, rejected, sent]);
    expect(second.next_cursor).toBeNull();
  });

  it("never lists another mailbox's message, whatever the filter", async () => {
    const reviewer = await h.connect(['reviewer'], 'support-reviewer', [SUPPORT]);
    const mine = await hold(h.agent, SUPPORT, { ticket: 'shared' });
    const foreign = await hold(h.agent, CEO, { ticket: 'shared' });
    ok(await h.reviewer.call('queue_reject', { message_id: foreign, reason: 'no' }));
    const other = await hold(h.agent, CEO, { ticket: 'shared' });
    for (const args of [{}, { metadata: { ticket: 'shared' } }, { status: 'any' }, { status: 'rejected' }, { status: 'any', metadata: { ticket: 'shared' } }]) {
      const seen = await ids(reviewer, args);
      expect(seen, JSON.stringify(args)).not.toContain(foreign);
      expect(seen, JSON.stringify(args)).not.toContain(other);
    }
    expect(await ids(reviewer, { status: 'any', metadata: { ticket: 'shared' } })).toEqual([mine]);
    // The foreign mailbox by name is refused as an unknown one.
    expect((await reviewer.call('list_pending', { mailbox: CEO, status: 'any' })).isError).toBe(true);
  });

  it.each([
    ['a key that could leave the JSON path', { metadata: { "x') OR 1=1 --": 'a' } }, /metadata/],
    ['a value that is not a scalar', { metadata: { ticket: { nested: 1 } } }, /metadata/],
    ['too many pairs', { metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) }, /metadata/],
    ['an unknown status', { status: 'sending_soon' }, /status/],
  ])('refuses %s, naming the field', async (_label, args, field) => {
    const r = await h.reviewer.call('list_pending', args);
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toMatch(field);
  });
});
