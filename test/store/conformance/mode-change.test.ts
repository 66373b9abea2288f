/** Mode changes are prospective: held mail stays held and untouched; the change is audited with its count. */
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../../src/gate/evaluate.js';
import type { AutoApproveRule } from '../../../src/gate/rules/index.js';
import { newActionId } from '../../../src/ids.js';
import type { MailboxPatch } from '../../../src/store/store.js';
import {
  ALICE,
  BOB,
  NOTHING_DELIVERED,
  OPERATOR,
  T0,
  TTL_S,
  addMailbox,
  auditCount,
  content,
  decisionEvents,
  deliveredCopies,
  eventsOf,
  holdMany,
  inboundEmail,
  sandboxWorker,
  submit,
  useStore,
} from '../fixtures.js';

const db = useStore(async (s) => {
  await addMailbox(s, ALICE, 'gated_send');
  await addMailbox(s, BOB, 'gated_send');
});

const N = 25;
const rowsOf = async (mailbox: string) => (await db.s.listMessages({ mailbox })).sort((x, y) => x.message_id.localeCompare(y.message_id));
const events = (action: string) => eventsOf(db.s, action);

describe('gated_send -> autonomous with held messages', () => {
  it('leaves every held message pending and unchanged in every field, and reports the count', async () => {
    await holdMany(db.s, ALICE, N);
    await holdMany(db.s, BOB, 3);
    const before = await rowsOf(ALICE);
    const r = await db.s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'the agent has earned it', T0 + 10);
    expect(r).toMatchObject({ changed: ['oversight_mode'], pending_unaffected: N, mailbox: { oversight_mode: 'autonomous', updated_at: T0 + 10 } });
    const after = await rowsOf(ALICE);
    expect(after).toEqual(before);
    expect(after.every((m) => m.status === 'pending')).toBe(true);
    expect((await db.s.listPending({ mailbox: ALICE, limit: 100, now: T0 + 20 })).messages.length).toBe(N);
    expect(await db.s.claimForDelivery('w', T0 + 20, 60_000, 100, [ALICE, BOB])).toEqual([]);
  });

  it('records mailbox.mode_changed with actor, reason, the diff and pending_unaffected', async () => {
    await holdMany(db.s, ALICE, N);
    await db.s.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'the agent has earned it', T0 + 10);
    const [ev, ...more] = await events('mailbox.mode_changed');
    expect(more).toEqual([]);
    expect(ev).toMatchObject({ actor: OPERATOR, at: T0 + 10, mailbox: ALICE });
    expect(ev!.detail).toEqual({
      changes: { oversight_mode: { from: 'gated_send', to: 'autonomous' } },
      reason: 'the agent has earned it',
      pending_unaffected: N,
    });
    expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
  });

  it('new submissions follow the new mode, including from another instance', async () => {
    const other = db.t.open();
    const [heldId] = await holdMany(db.s, ALICE, 1);
    await other.updateMailbox(ALICE, { oversight_mode: 'autonomous' }, OPERATOR, 'go', T0 + 1);
    const after = await submit(db.s, ALICE, content({ subject: 'after' }), { now: T0 + 2 });
    expect(after.message).toMatchObject({ status: 'queued', mode_at_submit: 'autonomous', gate_code: 'mode_allows' });
    expect(await db.s.getMessage(heldId!)).toMatchObject({ status: 'pending', mode_at_submit: 'gated_send' });
    expect((await db.s.claimForDelivery('w', T0 + 3, 60_000, 10, [ALICE, BOB])).map((m) => m.message_id)).toEqual([after.message.message_id]);
  });

  it('adding an auto-approve rule does not release held messages that it would match', async () => {
    await holdMany(db.s, ALICE, 4);
    const r = await db.s.updateMailbox(ALICE, { auto_approve_rules: [{ type: 'all' }] }, OPERATOR, 'trust all', T0 + 1);
    expect(r).toMatchObject({ changed: ['auto_approve_rules'], pending_unaffected: 4 });
    expect((await db.s.listPending({ mailbox: ALICE, limit: 10, now: T0 + 1 })).messages.length).toBe(4);
    expect((await events('mailbox.mode_changed'))[0]!.detail).toMatchObject({
      changes: { auto_approve_rules: { from: [], to: [{ type: 'all' }] } },
      pending_unaffected: 4,
    });
    expect((await submit(db.s, ALICE, content({ subject: 'new' }), { now: T0 + 2 })).message).toMatchObject({ status: 'queued', gate_rule: 'all' });
  });
});

describe('other updates', () => {
  it('a patch that changes nothing writes nothing', async () => {
    await holdMany(db.s, ALICE, 2);
    const n = await auditCount(db.s);
    const r = await db.s.updateMailbox(ALICE, { oversight_mode: 'gated_send', display_name: undefined }, OPERATOR, 'noop', T0 + 1);
    expect(r).toMatchObject({ changed: [], mailbox: { oversight_mode: 'gated_send', updated_at: T0 } });
    expect(await auditCount(db.s)).toBe(n);
  });

  it('a change that is not about oversight is mailbox.updated', async () => {
    await db.s.updateMailbox(ALICE, { display_name: 'Alice', pending_ttl_seconds: 60 }, OPERATOR, 'cosmetic', T0 + 1);
    expect(await events('mailbox.mode_changed')).toEqual([]);
    const [ev] = await events('mailbox.updated');
    expect(ev!.detail).toEqual({
      changes: { display_name: { from: null, to: 'Alice' }, pending_ttl_seconds: { from: 3600, to: 60 } },
      reason: 'cosmetic',
      pending_unaffected: 0,
    });
  });

  it('a shorter TTL does not shorten the expiry of mail already held', async () => {
    const [id] = await holdMany(db.s, ALICE, 1);
    const before = (await db.s.getMessage(id!))!.expires_at;
    await db.s.updateMailbox(ALICE, { pending_ttl_seconds: 1 }, OPERATOR, 'hurry', T0 + 1);
    expect((await db.s.getMessage(id!))!.expires_at).toBe(before);
    expect(await db.s.expireDue(T0 + 5000, 10)).toEqual([]);
    expect((await submit(db.s, ALICE, content({ subject: 'new' }), { now: T0 + 2 })).message.expires_at).toBe(T0 + 2 + 1000);
  });
});

/** Holds a tag write in a gated_all mailbox (as tag_email does): flag an email that arrived in its INBOX. */
async function holdTag(mailbox: string): Promise<{ id: string; email: string }> {
  const email = (await db.s.insertInbound(inboundEmail({ mailbox, to: [mailbox], subject: 'to flag' }), T0))!;
  const a = await db.s.submitAction(
    {
      action_id: newActionId(),
      mailbox,
      actor: 'agent:test',
      action: { email_id: email, add_flags: ['\\Flagged'], remove_flags: [], move_to: null },
    },
    (mb) =>
      evaluate(
        { mode: mb.oversight_mode, rules: mb.auto_approve_rules },
        { requireApproval: false },
        { kind: 'write', operation: 'tag' },
        { knownContacts: new Set(), contactLists: new Map() },
      ),
    T0,
  );
  expect(a.status).toBe('pending');
  return { id: a.action_id, email };
}

describe('loosening with mail held, then the delivery worker (README: mail already held stays held)', () => {
  const loosenings: [string, 'gated_all' | 'gated_send', MailboxPatch, (() => Promise<void>)?][] = [
    ['gated_all -> monitored', 'gated_all', { oversight_mode: 'monitored' }],
    ['gated_all -> autonomous', 'gated_all', { oversight_mode: 'autonomous' }],
    ['gated_send -> monitored', 'gated_send', { oversight_mode: 'monitored' }],
    ['gated_send -> autonomous', 'gated_send', { oversight_mode: 'autonomous' }],
    ['gated_all with a rule approving everything', 'gated_all', { auto_approve_rules: [{ type: 'all' }] }],
    ...(
      [
        ['all', { type: 'all' }],
        ['domain', { type: 'domain', match: 'sandbox.test' }],
        ['subject', { type: 'subject', match: 'held*' }],
        ['contact_list', { type: 'contact_list', list: 'team' }],
      ] as [string, AutoApproveRule][]
    ).map(([name, rule]): [string, 'gated_send', MailboxPatch, () => Promise<void>] => [
      `gated_send with a ${name} rule matching the held mail`,
      'gated_send',
      { auto_approve_rules: [rule] },
      () => db.s.setContactLists({ team: [BOB] }),
    ]),
  ];
  for (const [name, from, patch, setup] of loosenings) {
    it(`${name}: held mail is never delivered by the worker, and can still be approved, rejected or left to expire`, async () => {
      await setup?.();
      await db.s.updateMailbox(ALICE, { oversight_mode: from }, OPERATOR, 'start strict', T0);
      const [approve, reject, expire] = await holdMany(db.s, ALICE, 3, T0, { to: [BOB] });
      const tag = from === 'gated_all' ? await holdTag(ALICE) : null;
      const held = [approve!, reject!, expire!];
      const r = await db.s.updateMailbox(ALICE, patch, OPERATOR, 'loosen', T0 + 10);
      expect(r.pending_unaffected).toBe(held.length + (tag ? 1 : 0));
      // The change really loosens: the same kind of send drafted now is not held.
      const after = (await submit(db.s, ALICE, content({ to: [BOB], subject: 'held? not any more' }), { now: T0 + 11 })).message;
      expect(after.status).toBe('queued');

      const worker = (now: number) => sandboxWorker(db.s, () => now).tick();
      await worker(T0 + 20);
      expect(await deliveredCopies(db.s, after.message_id)).toMatchObject({ inbox: 1, sent_events: 1 });
      for (const id of held) {
        expect((await db.s.getMessage(id))!.status, id).toBe('pending');
        expect(await deliveredCopies(db.s, id), id).toEqual(NOTHING_DELIVERED);
      }
      if (tag) expect([(await db.s.getAction(tag.id))!.status, (await db.s.getEmail(tag.email))!.flags]).toEqual(['pending', []]);

      await db.s.decideMessage(approve!, { action: 'approve', actor: 'reviewer:r' }, T0 + 30);
      await db.s.decideMessage(reject!, { action: 'reject', actor: 'reviewer:r', reason: 'no' }, T0 + 30);
      if (tag) await db.s.decideAction(tag.id, { action: 'approve', actor: 'reviewer:r' }, T0 + 30);
      await worker(T0 + 40);
      await worker(T0 + 41);
      expect(await deliveredCopies(db.s, approve!)).toEqual({ inbox: 1, sent: 1, captured: 0, sent_events: 1 });
      expect(await deliveredCopies(db.s, reject!)).toEqual(NOTHING_DELIVERED);
      if (tag) expect([(await db.s.getAction(tag.id))!.status, (await db.s.getEmail(tag.email))!.flags]).toEqual(['applied', ['\\Flagged']]);
      expect((await db.s.getMessage(expire!))!.status).toBe('pending');

      await worker(T0 + TTL_S * 1000);
      expect((await db.s.getMessage(expire!))!.status).toBe('expired');
      expect(await deliveredCopies(db.s, expire!)).toEqual(NOTHING_DELIVERED);
      expect(await Promise.all(held.map((id) => decisionEvents(db.s, id)))).toEqual([['message.approved'], ['message.rejected'], ['message.expired']]);
      if (tag) expect(await decisionEvents(db.s, tag.id)).toEqual(['message.approved']);
      expect(await db.s.verifyAudit()).toMatchObject({ ok: true });
    });
  }
});
