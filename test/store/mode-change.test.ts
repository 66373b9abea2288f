/** Mode changes are prospective: held mail stays held and untouched; the change is audited with its count. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite-store.js';
import { ALICE, BOB, OPERATOR, T0, addMailbox, auditCount, content, holdMany, submit, testDb } from './fixtures.js';

let t: ReturnType<typeof testDb>;
let s: SqliteStore;
beforeEach(async () => {
  t = testDb();
  s = t.open();
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'gated_send');
});
afterEach(async () => { await t.close(); });

const N = 25;
const rowsOf = (mailbox: string) => s.db.prepare("SELECT * FROM messages WHERE mailbox = ? ORDER BY message_id").all(mailbox);
const events = (action: string) => s.db.prepare('SELECT actor, at, mailbox, detail FROM audit_events WHERE action = ?').all(action) as
  { actor: string; at: number; mailbox: string; detail: string }[];

describe('gated_send -> autonomous with held messages', () => {
  it('leaves every held message pending and byte-for-byte unchanged, and reports the count', async () => {
    await holdMany(s, ALICE, N);
    await holdMany(s, BOB, 3);
    const before = rowsOf(ALICE);
    const r = await s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'the agent has earned it', T0 + 10);
    expect(r).toMatchObject({ changed: ['oversight_mode'], pending_unaffected: N, mailbox: { oversight_mode: 'autonomous', updated_at: T0 + 10 } });
    const after = rowsOf(ALICE);
    expect(after).toEqual(before);
    expect(after.every((m) => (m as { status: string }).status === 'pending')).toBe(true);
    expect((await s.listPending({ mailbox: ALICE, limit: 100, now: T0 + 20 })).messages.length).toBe(N);
    expect(await s.claimForDelivery('w', T0 + 20, 60_000, 100, [ALICE, BOB])).toEqual([]);
  });

  it('records mailbox.mode_changed with actor, reason, the diff and pending_unaffected', async () => {
    await holdMany(s, ALICE, N);
    await s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'the agent has earned it', T0 + 10);
    const [ev, ...more] = events('mailbox.mode_changed');
    expect(more).toEqual([]);
    expect(ev).toMatchObject({ actor: OPERATOR, at: T0 + 10, mailbox: ALICE });
    expect(JSON.parse(ev!.detail)).toEqual({
      changes: { oversight_mode: { from: 'gated_send', to: 'autonomous' } }, reason: 'the agent has earned it', pending_unaffected: N,
    });
    expect(await s.verifyAudit()).toMatchObject({ ok: true });
  });

  it('new submissions follow the new mode, including from another connection', async () => {
    const other = t.open();
    const [heldId] = await holdMany(s, ALICE, 1);
    await other.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'go', T0 + 1);
    const after = await submit(s, ALICE, content({ subject: 'after' }), { now: T0 + 2 });
    expect(after.message).toMatchObject({ status: 'queued', mode_at_submit: 'autonomous', gate_code: 'mode_allows' });
    expect((await s.getMessage(heldId!))).toMatchObject({ status: 'pending', mode_at_submit: 'gated_send' });
    expect((await s.claimForDelivery('w', T0 + 3, 60_000, 10, [ALICE, BOB])).map((m) => m.message_id)).toEqual([after.message.message_id]);
  });

  it('adding an auto-approve rule does not release held messages that it would match', async () => {
    await holdMany(s, ALICE, 4);
    const r = await s.updateMailbox(ALICE, { auto_approve_rules: [{ type: 'all' }] }, OPERATOR, 'trust all', T0 + 1);
    expect(r).toMatchObject({ changed: ['auto_approve_rules'], pending_unaffected: 4 });
    expect((await s.listPending({ mailbox: ALICE, limit: 10, now: T0 + 1 })).messages.length).toBe(4);
    expect(JSON.parse(events('mailbox.mode_changed')[0]!.detail)).toMatchObject({
      changes: { auto_approve_rules: { from: [], to: [{ type: 'all' }] } }, pending_unaffected: 4,
    });
    expect((await submit(s, ALICE, content({ subject: 'new' }), { now: T0 + 2 })).message).toMatchObject({ status: 'queued', gate_rule: 'all' });
  });
});

describe('other updates', () => {
  it('a patch that changes nothing writes nothing', async () => {
    await holdMany(s, ALICE, 2);
    const n = auditCount(s);
    const r = await s.updateMailbox(ALICE, { oversight_mode: 'gated_send', display_name: undefined }, OPERATOR, 'noop', T0 + 1);
    expect(r).toMatchObject({ changed: [], mailbox: { oversight_mode: 'gated_send', updated_at: T0 } });
    expect(auditCount(s)).toBe(n);
  });

  it('a change that is not about oversight is mailbox.updated', async () => {
    await s.updateMailbox(ALICE, { display_name: 'Alice', pending_ttl_seconds: 60 }, OPERATOR, 'cosmetic', T0 + 1);
    expect(events('mailbox.mode_changed')).toEqual([]);
    const [ev] = events('mailbox.updated');
    expect(JSON.parse(ev!.detail)).toEqual({
      changes: { display_name: { from: null, to: 'Alice' }, pending_ttl_seconds: { from: 3600, to: 60 } }, reason: 'cosmetic', pending_unaffected: 0,
    });
  });

  it('a shorter TTL does not shorten the expiry of mail already held', async () => {
    const [id] = await holdMany(s, ALICE, 1);
    const before = (await s.getMessage(id!))!.expires_at;
    await s.updateMailbox(ALICE, { pending_ttl_seconds: 1 }, OPERATOR, 'hurry', T0 + 1);
    expect((await s.getMessage(id!))!.expires_at).toBe(before);
    expect(await s.expireDue(T0 + 5000, 10)).toEqual([]);
    expect((await submit(s, ALICE, content({ subject: 'new' }), { now: T0 + 2 })).message.expires_at).toBe(T0 + 2 + 1000);
  });
});
