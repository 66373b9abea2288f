/**
 * A reviewer session sees what a held reply changes against its thread, and when it expires, through the real
 * SDK client: list_pending and get_message carry thread_changes, thread_compared and expires_at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, inbox, ok, send, startHarness } from './harness.js';

describe('thread changes in the reviewer tools', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('list_pending and get_message flag a reply that changes the IBAN, adds a link domain and a recipient', async () => {
    // you@ is autonomous: the supplier's invoice lands in agent@'s sandbox inbox at once.
    await send(h.agent, {
      mailbox: 'you@mailgate.test',
      to: 'agent@mailgate.test',
      subject: 'Invoice 7',
      text: 'IBAN DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1111',
    });
    const email = (await inbox(h.agent, 'agent@mailgate.test')).find((e) => e.subject === 'Invoice 7')!;
    const reply = ok(
      await h.agent.call('reply_email', {
        email_id: email.email_id,
        cc: 'eve@elsewhere.example',
        html:
          '<p>New details: IBAN GB82-WEST-1234-5698-7654-32 (card 4111-1111-1111-1111 unchanged). ' +
          '<a href="https://evil.example/pay">https://mailgate.test/pay</a></p>',
      }),
    );
    expect(reply.status).toBe('pending');

    const item = (ok(await h.reviewer.call('list_pending', {})).messages as Record<string, any>[]).find((m) => m.message_id === reply.message_id)!;
    const want = [
      { kind: 'new_iban', value: 'GB82WEST12345698765432' },
      { kind: 'link_text_mismatch', value: 'mailgate.test -> evil.example' },
      { kind: 'new_recipient', value: 'eve@elsewhere.example' },
      { kind: 'new_link_domain', value: 'evil.example' },
    ];
    expect(item).toMatchObject({ thread_compared: true, thread_changes: want, expires_at: reply.expires_at });

    const detail = ok(await h.agent.call('get_message', { message_id: reply.message_id }));
    expect(detail).toMatchObject({ thread_compared: true, thread_changes: want, expires_at: reply.expires_at });
  });

  it('a send that is not a reply is not compared, and says so', async () => {
    const sent = await send(h.agent, { mailbox: 'agent@mailgate.test', to: 'new@elsewhere.example', text: 'IBAN GB82 WEST 1234 5698 7654 32' });
    const detail = ok(await h.reviewer.call('list_pending', {})).messages.find((m: Record<string, any>) => m.message_id === sent.message_id);
    expect(detail).toMatchObject({ thread_compared: false, thread_changes: [] });
  });
});
