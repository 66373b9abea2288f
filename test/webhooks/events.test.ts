/**
 * Each lifecycle event reaches a real HTTP receiver as a signed Standard Webhooks POST with `type` and `data`,
 * through the real services and store (the config file holds the endpoint). The dispatcher runs in the
 * background and is woken by the commit that queued the event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { updateMailbox } from '../../src/services/mailboxes.js';
import { approveMessage, cancelMessage, rejectMessage } from '../../src/services/review.js';
import { sendEmail } from '../../src/services/send.js';
import { newMessageId, newMessageIdHeader } from '../../src/ids.js';
import {
  AGENT,
  AUTO,
  BRIEF,
  GATED,
  LOCKED,
  REVIEWER,
  type Received,
  type Receiver,
  type TestApp,
  WATCHED,
  secret,
  startApp,
  startReceiver,
  stopReceivers,
  until,
  verify,
} from './helpers.js';

const SECRET = secret();
const BODY = 'the body is private: never in a webhook';
let rx: Receiver;
let t: TestApp;

beforeAll(async () => {
  rx = await startReceiver();
  t = await startApp([{ url: rx.url, secret: SECRET }], { background: true });
});
afterAll(async () => {
  await t?.close();
  await stopReceivers();
});

const send = (mailbox: string, subject: string, extra: Record<string, unknown> = {}) =>
  sendEmail(t.app, AGENT, { mailbox, to: ['bob@example.com'], cc: ['carol@example.com'], bcc: ['dan@example.com'], subject, text: BODY, ...extra });

/** The first request of `type` about message `id` (waits for it). */
async function event(type: string, id?: string): Promise<Received> {
  const find = () => rx.received.find((r) => r.json.type === type && (id === undefined || r.json.data.message_id === id));
  await until(() => find() !== undefined, `${type} for ${id ?? 'any'}`);
  return find()!;
}

describe('events from the lifecycle', () => {
  it('a held send: email.pending with recipients, subject, gate and expiry, signed, and no body', async () => {
    const { message_id } = await send(GATED, 'Quarterly numbers');
    const r = await event('email.pending', message_id);
    expect(verify(SECRET, r)).toEqual(r.json);
    expect(r.id).toMatch(/^evt_/);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['user-agent']).toBe('mailgate-webhooks');
    expect(Math.abs(Number(r.timestamp) - Date.now() / 1000)).toBeLessThan(30);
    expect(r.json).toMatchObject({
      type: 'email.pending',
      data: {
        message_id,
        mailbox: GATED,
        status: 'pending',
        kind: 'send',
        subject: 'Quarterly numbers',
        to: ['bob@example.com'],
        cc: ['carol@example.com'],
        bcc: ['dan@example.com'],
        created_by: AGENT.id,
        gate: { code: 'mode_requires_approval' },
      },
    });
    expect(Date.parse(r.json.timestamp)).not.toBeNaN();
    expect(Date.parse(r.json.data.expires_at)).toBeGreaterThan(Date.now());
    expect(r.body).not.toContain(BODY);
    // The webhook id is the audit event's id: a receiver can look it up in `mailgate audit`.
    const audit = await t.app.store.audit({ message_id, limit: 10 });
    expect(audit.find((e) => e.action === 'message.held')?.event_id).toBe(r.id);
  });

  it('approved, then sent: email.approved (who, note) and email.sent', async () => {
    const { message_id } = await send(GATED, 'Approve me');
    await approveMessage(t.app, REVIEWER, message_id, { note: 'looks right' });
    const approved = await event('email.approved', message_id);
    expect(approved.json.data).toMatchObject({ decided_by: REVIEWER.id, reason: 'looks right', edited: false });
    const sent = await event('email.sent', message_id);
    expect(sent.json.data).toMatchObject({ status: 'sent', message_id });
    expect(Date.parse(sent.json.data.sent_at)).not.toBeNaN();
    expect(approved.id).not.toBe(sent.id);
  });

  it('rejected: email.rejected with the reason and the reviewer', async () => {
    const { message_id } = await send(GATED, 'Reject me');
    await rejectMessage(t.app, REVIEWER, message_id, 'wrong tone');
    expect((await event('email.rejected', message_id)).json.data).toMatchObject({ status: 'rejected', reason: 'wrong tone', decided_by: REVIEWER.id });
  });

  it('cancelled by its author: email.cancelled', async () => {
    const { message_id } = await send(GATED, 'Cancel me');
    await cancelMessage(t.app, AGENT, message_id);
    expect((await event('email.cancelled', message_id)).json.data).toMatchObject({ status: 'cancelled', decided_by: AGENT.id });
  });

  it('expired (a 1 s pending_ttl, swept by the worker): email.expired', async () => {
    const { message_id } = await send(BRIEF, 'Let me expire');
    expect((await event('email.expired', message_id)).json.data).toMatchObject({ status: 'expired', decided_by: 'system:expiry' });
  });

  it('blocked by a read_only mailbox: email.blocked with the gate code and reason', async () => {
    const { message_id } = await send(LOCKED, 'Not allowed');
    const data = (await event('email.blocked', message_id)).json.data;
    expect(data).toMatchObject({ status: 'blocked', gate: { code: 'action_blocked' } });
    expect(data.reason).toMatch(/read_only/);
  });

  it('monitored mode: the send goes out at once and email.monitored tells people', async () => {
    const { message_id, status } = await send(WATCHED, 'Watched send');
    expect(status).toBe('sent');
    expect((await event('email.monitored', message_id)).json.data).toMatchObject({ mailbox: WATCHED, gate: { code: 'mode_allows' } });
    await event('email.sent', message_id);
  });

  it('a mode change: mailbox.mode_changed with the new mode, who and why', async () => {
    await updateMailbox(
      t.app,
      { id: 'operator:test', roles: ['operator'], mailboxes: 'all' as const },
      { address: AUTO, oversight_mode: 'gated_all', change_reason: 'audit week' },
    );
    const r = await event('mailbox.mode_changed');
    expect(r.json.data).toMatchObject({
      mailbox: AUTO,
      oversight_mode: 'gated_all',
      changed_by: 'operator:test',
      reason: 'audit week',
      changes: { oversight_mode: { from: 'autonomous', to: 'gated_all' } },
    });
    expect(() => verify(SECRET, r)).not.toThrow();
  });

  it('a failed delivery is email.failed; an unknown outcome is email.outcome_unknown with the Message-ID to look for', async () => {
    const store = t.app.store;
    const ids: string[] = [];
    for (const subject of ['will fail', 'unknown fate']) {
      const r = await store.submitMessage(
        {
          message_id: newMessageId(),
          message_id_header: newMessageIdHeader(GATED),
          mailbox: GATED,
          kind: 'send',
          actor: AGENT.id,
          content: { to: ['bob@example.com'], cc: [], bcc: [], subject, text: BODY, html: null },
        },
        () => ({ outcome: 'hold', code: 'mode_requires_approval', reason: 'test' }),
        Date.now(),
      );
      ids.push(r.message.message_id);
    }
    // Approved and claimed here, by a "worker" that then records the outcomes a real transport would report.
    const owner = `${hostname()}:${process.pid}:test`;
    for (const id of ids) await store.decideMessage(id, { action: 'approve', actor: REVIEWER.id }, Date.now());
    await t.app.worker.stop();
    const claimed = await store.claimForDelivery(owner, Date.now(), 60_000, 10, [GATED]);
    expect(claimed.map((m) => m.message_id).sort()).toEqual([...ids].sort());
    await store.recordOutcome(ids[0]!, owner, { kind: 'failed', error: '550 mailbox unavailable' }, Date.now());
    await store.recordOutcome(ids[1]!, owner, { kind: 'unknown', error: 'connection lost after the final dot' }, Date.now());
    expect((await event('email.failed', ids[0])).json.data).toMatchObject({ status: 'failed', error: '550 mailbox unavailable' });
    const unknown = (await event('email.outcome_unknown', ids[1])).json.data;
    expect(unknown).toMatchObject({ status: 'outcome_unknown', error: 'connection lost after the final dot' });
    expect(unknown.message_id_header).toMatch(/^<.+@.+>$/);
  });

  it('never sends a body, and every request verifies', () => {
    expect(rx.received.length).toBeGreaterThan(10);
    for (const r of rx.received) {
      expect(r.body).not.toContain(BODY);
      expect(() => verify(SECRET, r)).not.toThrow();
    }
    const ids = rx.received.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
