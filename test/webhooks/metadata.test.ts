/**
 * The agent's send_email metadata in webhook payloads, as a real receiver on 127.0.0.1 gets them: on the held
 * event and on the events that follow it (approved, sent), so a receiver can match each to its ticket.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { approveMessage } from '../../src/services/review.js';
import { sendEmail } from '../../src/services/send.js';
import { AGENT, GATED, REVIEWER, type TestApp, secret, startApp, startReceiver, stopReceivers, verify } from './helpers.js';

const SECRET = secret();
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});
afterAll(stopReceivers);

describe('webhook payloads carry metadata', () => {
  it('email.pending, email.approved and email.sent name the metadata; a send without it says null', async () => {
    const rx = await startReceiver();
    t = await startApp([{ url: rx.url, secret: SECRET }], { background: true });
    const metadata = { ticket: 'T-4821', attempt: 2, vip: false };
    const { message_id } = await sendEmail(t.app, AGENT, { mailbox: GATED, to: ['bob@example.com'], subject: 'Refund', text: 'body', metadata });
    await sendEmail(t.app, AGENT, { mailbox: GATED, to: ['bob@example.com'], subject: 'No metadata', text: 'body' });
    await approveMessage(t.app, REVIEWER, message_id);
    const got = await rx.waitFor(4, 'pending x2, approved, sent');
    const events = got.map((r) => verify(SECRET, r) as { type: string; data: Record<string, unknown> });
    const mine = events.filter((e) => e.data.message_id === message_id);
    expect(mine.map((e) => e.type).sort()).toEqual(['email.approved', 'email.pending', 'email.sent']);
    for (const e of mine) expect(e.data.metadata, e.type).toEqual(metadata);
    expect(events.find((e) => e.data.message_id !== message_id)!.data.metadata).toBeNull();
  });
});
