/**
 * Every state change commits with its audit event, and a failed operation writes nothing at all. (An audit append
 * the database itself refuses needs a trigger on the file: audit-sqlite.test.ts.)
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  AGENT,
  ALICE,
  BOB,
  CAROL,
  OPERATOR,
  OUTSIDER,
  T0,
  TTL_S,
  addMailbox,
  allEmails,
  auditActions,
  auditEvents,
  content,
  eventsOf,
  failure,
  submit,
  useStore,
} from '../fixtures.js';

const db = useStore();

const lastEvent = async (id: string) => (await auditEvents(db.s, { message_id: id })).at(-1)!;
const detailOf = async (id: string) => (await lastEvent(id)).detail;
/** Every address these tests send to or from: what the correspondents a mailbox knows are looked up among. */
const ADDRESSES = [ALICE, BOB, CAROL, OUTSIDER, 'nobody@sandbox.test'];

/** Everything a store operation can write, as the Store shows it: rows whole, not only counted. */
async function snapshot() {
  const mailboxes = await db.s.listMailboxes();
  return {
    messages: await db.s.listMessages({}),
    audit: await auditEvents(db.s),
    emails: await allEmails(db.s),
    mailboxes,
    captured: await db.s.listCaptured(1000),
    correspondents: await Promise.all(mailboxes.map(async (m) => [...(await db.s.knownCorrespondents(m.address, ADDRESSES))].sort())),
    webhooks: await db.s.listWebhookEndpoints({ include_disabled: true }),
  };
}

describe('submit records the gate outcome with its event', () => {
  it('held -> pending + message.held with hash, gate and expiry', async () => {
    await addMailbox(db.s, ALICE, 'gated_send');
    const { message, decision } = await submit(db.s, ALICE);
    expect(decision.outcome).toBe('hold');
    expect(message.status).toBe('pending');
    expect(message.expires_at).toBe(T0 + TTL_S * 1000);
    expect(await auditActions(db.s, message.message_id)).toEqual(['message.held']);
    expect(await lastEvent(message.message_id)).toMatchObject({ actor: AGENT, at: T0, mailbox: ALICE });
    expect(await detailOf(message.message_id)).toMatchObject({
      content_hash: message.content_hash,
      mode: 'gated_send',
      expires_at: T0 + TTL_S * 1000,
      gate: { outcome: 'hold', code: 'mode_requires_approval' },
    });
  });

  it('autonomous -> queued + message.submitted, claimable at once', async () => {
    await addMailbox(db.s, ALICE, 'autonomous');
    const { message } = await submit(db.s, ALICE);
    expect(message).toMatchObject({ status: 'queued', next_attempt_at: T0, expires_at: null });
    expect(await auditActions(db.s, message.message_id)).toEqual(['message.submitted']);
    expect(await detailOf(message.message_id)).toMatchObject({ gate: { outcome: 'execute', code: 'mode_allows' } });
  });

  it('read_only -> blocked + message.blocked, never claimable', async () => {
    await addMailbox(db.s, ALICE, 'read_only');
    const { message } = await submit(db.s, ALICE);
    expect(message).toMatchObject({ status: 'blocked', gate_code: 'action_blocked', next_attempt_at: null });
    expect(await auditActions(db.s, message.message_id)).toEqual(['message.blocked']);
    expect(await db.s.claimForDelivery('w', T0 + 10 ** 9, 1000, 100, [ALICE])).toEqual([]);
  });

  it('monitored -> queued + message.submitted and message.notified (which webhooks report as email.monitored)', async () => {
    await addMailbox(db.s, ALICE, 'monitored');
    const { message } = await submit(db.s, ALICE);
    expect(message.status).toBe('queued');
    expect(await auditActions(db.s, message.message_id)).toEqual(['message.submitted', 'message.notified']);
    expect(await detailOf(message.message_id)).toEqual({ event: 'email.monitored' });
  });

  it('auto-approved by a rule -> queued with the rule named in row and event', async () => {
    await addMailbox(db.s, ALICE, 'gated_send', { rules: [{ type: 'domain', match: 'external.example' }] });
    const { message } = await submit(db.s, ALICE);
    expect(message).toMatchObject({ status: 'queued', gate_code: 'auto_approved', gate_rule: 'domain:external.example' });
    expect(await detailOf(message.message_id)).toMatchObject({ gate: { code: 'auto_approved', rule: 'domain:external.example' } });
  });
});

describe('decisions and delivery record their events', () => {
  let id: string;
  beforeEach(async () => {
    await addMailbox(db.s, ALICE);
    id = (await submit(db.s, ALICE)).message.message_id;
  });

  it('approve -> approved + message.approved', async () => {
    const m = await db.s.decideMessage(id, { action: 'approve', actor: 'reviewer:r', note: 'ok' }, T0 + 50);
    expect(m).toMatchObject({ status: 'approved', decided_by: 'reviewer:r', decided_at: T0 + 50, decision_reason: 'ok', next_attempt_at: T0 + 50 });
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.approved']);
    expect(await lastEvent(id)).toMatchObject({ actor: 'reviewer:r', at: T0 + 50 });
    expect(await detailOf(id)).toEqual({ reason: 'ok', content_hash: m.content_hash, edited: false, waited_ms: 50 });
  });

  it('approve with edits -> message.edited carrying original and edited, then message.approved with the new hash', async () => {
    const before = (await db.s.getMessage(id))!;
    const m = await db.s.decideMessage(id, { action: 'approve', actor: 'reviewer:r', edits: { subject: 'Fixed subject', to: [BOB] } }, T0 + 5);
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.edited', 'message.approved']);
    const [edited, ...more] = (await eventsOf(db.s, 'message.edited')).map((e) => e.detail);
    expect(more).toEqual([]);
    const original = { to: before.to, cc: [], bcc: [], subject: before.subject, text: before.text, html: null };
    expect(edited).toEqual({ edited_fields: ['subject', 'to'], original, edited: { ...original, subject: 'Fixed subject', to: [BOB] } });
    expect(await detailOf(id)).toMatchObject({ edited: true, content_hash: m.content_hash });
    expect(m.content_hash).not.toBe(before.content_hash);
  });

  it('reject -> rejected + message.rejected with the reason', async () => {
    const m = await db.s.decideMessage(id, { action: 'reject', actor: 'reviewer:r', reason: 'off-topic' }, T0 + 1);
    expect(m).toMatchObject({ status: 'rejected', decision_reason: 'off-topic', next_attempt_at: null });
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.rejected']);
    expect(await detailOf(id)).toMatchObject({ reason: 'off-topic', edited: false });
  });

  it('cancel -> cancelled + message.cancelled', async () => {
    const m = await db.s.decideMessage(id, { action: 'cancel', actor: AGENT }, T0 + 1);
    expect(m).toMatchObject({ status: 'cancelled', decided_by: AGENT, decision_reason: null });
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.cancelled']);
  });

  it('expiry -> expired + message.expired by system:expiry', async () => {
    const [m] = await db.s.expireDue(T0 + TTL_S * 1000, 10);
    expect(m).toMatchObject({ message_id: id, status: 'expired' });
    expect(await db.s.getMessage(id)).toMatchObject({ status: 'expired', decided_by: 'system:expiry', decided_at: T0 + TTL_S * 1000 });
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.expired']);
    expect((await lastEvent(id)).actor).toBe('system:expiry');
  });

  it('sent -> sent + message.sent by system:delivery, correspondents recorded in the same commit', async () => {
    await db.s.decideMessage(id, { action: 'approve', actor: 'reviewer:r' }, T0 + 1);
    expect((await db.s.claimForDelivery('w1', T0 + 2, 1000, 10, [ALICE])).map((m) => m.message_id)).toEqual([id]);
    // The transport tried it: the attempt is charged with the outcome, in the same commit.
    const m = await db.s.recordOutcome(id, 'w1', { kind: 'sent', detail: { accepted: ['x'] } }, T0 + 3, { charge: true });
    expect(m).toMatchObject({ status: 'sent', sent_at: T0 + 3, lease_owner: null, lease_until: null, attempts: 1 });
    expect(await auditActions(db.s, id)).toEqual(['message.held', 'message.approved', 'message.sent']);
    expect((await lastEvent(id)).actor).toBe('system:delivery');
    expect(await detailOf(id)).toEqual({ attempt: 1, accepted: ['x'] });
    expect(await db.s.knownCorrespondents(ALICE, ADDRESSES)).toEqual(new Set([content().to[0]]));
  });
});

describe('a failing operation writes nothing', () => {
  beforeEach(async () => {
    await addMailbox(db.s, ALICE);
    await submit(db.s, ALICE, content(), { key: 'k1' });
  });

  const cases: [string, () => Promise<unknown>, string][] = [
    ['decide an unknown id', () => db.s.decideMessage('msg_doesnotexist', { action: 'approve', actor: 'r' }, T0), 'UNKNOWN_MESSAGE'],
    ['reuse a key with other content', () => submit(db.s, ALICE, content({ subject: 'other' }), { key: 'k1' }), 'IDEMPOTENCY_CONFLICT'],
    ['submit to an unknown mailbox', () => submit(db.s, 'nobody@sandbox.test'), 'UNKNOWN_MAILBOX'],
    ['create an existing mailbox', () => addMailbox(db.s, ALICE), 'MAILBOX_EXISTS'],
    ['update an unknown mailbox', () => db.s.updateMailbox('nobody@sandbox.test', { oversight_mode: 'autonomous' }, OPERATOR, 'x', T0), 'UNKNOWN_MAILBOX'],
  ];
  for (const [name, op, code] of cases) {
    it(name, async () => {
      const before = await snapshot();
      expect((await failure(op())).code).toBe(code);
      expect(await snapshot()).toEqual(before);
    });
  }

  it('decide a message that is no longer pending (and not expired)', async () => {
    const id = (await submit(db.s, ALICE, content({ subject: 'x' }))).message.message_id;
    await db.s.decideMessage(id, { action: 'reject', actor: 'r', reason: 'no' }, T0 + 1);
    const before = await snapshot();
    expect((await failure(db.s.decideMessage(id, { action: 'approve', actor: 'r' }, T0 + 2))).code).toBe('NOT_PENDING');
    expect(await snapshot()).toEqual(before);
  });

  it('a gate that throws leaves no message and no event', async () => {
    const before = await snapshot();
    const req = { message_id: 'msg_gatethrows', message_id_header: '<g@x>', mailbox: ALICE, kind: 'send' as const, content: content(), actor: AGENT };
    await expect(
      db.s.submitMessage(
        req,
        () => {
          throw new Error('gate exploded');
        },
        T0,
      ),
    ).rejects.toThrow('gate exploded');
    expect(await snapshot()).toEqual(before);
  });
});
