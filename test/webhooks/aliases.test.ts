/**
 * Other systems' event names (issue 11): an endpoint may subscribe by Molted's approval.* names or MCPMail's
 * queue.pending and receives those events under the name it subscribed by, signed like any other, with the data
 * keys such receivers read; an endpoint that names mailgate's own event gets it unchanged. Real app, real
 * receiver on 127.0.0.1, standardwebhooks verifying.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveMessage, rejectMessage } from '../../src/services/review.js';
import { sendEmail } from '../../src/services/send.js';
import { WebhookConfig } from '../../src/webhooks/schema.js';
import { AGENT, BRIEF, GATED, type Receiver, REVIEWER, type TestApp, secret, startApp, startReceiver, stopReceivers, until, verify } from './helpers.js';

const SECRET = secret();
let t: TestApp;
let theirs: Receiver;
let ours: Receiver;

beforeAll(async () => {
  theirs = await startReceiver();
  ours = await startReceiver();
  t = await startApp(
    [
      { url: theirs.url, secret: SECRET, events: ['queue.pending', 'approval.approved', 'approval.rejected', 'approval.expired'] },
      { url: ours.url, secret: SECRET, events: ['email.pending', 'email.approved', 'email.rejected', 'email.expired'] },
    ],
    { background: true },
  );
});
afterAll(async () => {
  await t?.close();
  await stopReceivers();
});

const send = (mailbox: string, subject: string) => sendEmail(t.app, AGENT, { mailbox, to: ['carol@example.com'], subject, text: 'body' });

async function eventAt(rx: Receiver, type: string, message_id: string) {
  await until(() => rx.received.some((r) => r.json.type === type && r.json.data.message_id === message_id), `${type} for ${message_id}`);
  return rx.received.find((r) => r.json.type === type && r.json.data.message_id === message_id)!;
}

describe('event names of other systems', () => {
  it('held: queue.pending to the endpoint that asked for it, email.pending to the other; both signed', async () => {
    const { message_id } = await send(GATED, 'Held');
    const alias = await eventAt(theirs, 'queue.pending', message_id);
    const own = await eventAt(ours, 'email.pending', message_id);
    expect(() => verify(SECRET, alias)).not.toThrow();
    expect(() => verify(SECRET, own)).not.toThrow();
    expect(alias.id).toBe(own.id); // one event, two names
    expect(alias.json.data).toMatchObject({ ...own.json.data, requestId: message_id, recipientEmail: 'carol@example.com' });
    expect(theirs.received.some((r) => r.json.type === 'email.pending')).toBe(false);
  });

  it("approved and rejected: approval.approved, approval.rejected with Molted's requestId and rejectionReason", async () => {
    const a = await send(GATED, 'Approve me');
    const r = await send(GATED, 'Reject me');
    await approveMessage(t.app, REVIEWER, a.message_id, { note: 'fine' });
    await rejectMessage(t.app, REVIEWER, r.message_id, 'wrong tone');
    expect((await eventAt(theirs, 'approval.approved', a.message_id)).json.data).toMatchObject({ requestId: a.message_id, status: 'approved' });
    const rejected = await eventAt(theirs, 'approval.rejected', r.message_id);
    expect(rejected.json.data).toMatchObject({ requestId: r.message_id, rejectionReason: 'wrong tone', reason: 'wrong tone' });
    expect((await eventAt(ours, 'email.rejected', r.message_id)).json.data).not.toHaveProperty('rejectionReason');
  });

  it('expired: approval.expired', async () => {
    const { message_id } = await send(BRIEF, 'Let me expire');
    expect((await eventAt(theirs, 'approval.expired', message_id)).json.data).toMatchObject({ status: 'expired', requestId: message_id });
  });

  it('a name no system uses is still refused, naming the accepted ones', () => {
    const r = WebhookConfig.safeParse({ url: 'https://hooks.example.com/x', secret: SECRET, events: ['approval.maybe'] });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toMatch(/unknown event; use one of .*queue\.pending/);
  });
});
