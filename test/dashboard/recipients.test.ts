/** The dashboard's recipient flags: external honours the policy's internal_domains; new means never sent to. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipientFlags } from '../../src/services/recipients.js';
import { sendEmail } from '../../src/services/send.js';
import { type Harness, startHarness } from '../tools/harness.js';

let h: Harness;
const AGENT = { id: 'agent:test', roles: ['agent'] as const, mailboxes: 'all' as const };
beforeAll(async () => {
  h = await startHarness({
    config: {
      mailboxes: [{ address: 'held@acme.test', oversight_mode: 'gated_send', policy: { internal_domains: ['acme-eu.test'] } }],
    },
  });
});
afterAll(async () => {
  await h.close();
});

describe('recipientFlags', () => {
  it('flags outside domains as external unless internal_domains lists them, and addresses never sent to as new', async () => {
    // held@ has written to known@partner.test before (approved and delivered); then it drafts to it and three others.
    const first = await sendEmail(h.app, AGENT, { mailbox: 'held@acme.test', to: ['known@partner.test'], subject: 'earlier', text: 'hi' });
    await h.app.store.decideMessage(first.message_id, { action: 'approve', actor: 'reviewer:test' }, h.app.clock());
    await h.app.worker.tick();
    expect((await h.app.store.getMessage(first.message_id))!.status).toBe('sent');
    const held = await sendEmail(h.app, AGENT, {
      mailbox: 'held@acme.test',
      to: ['known@partner.test', 'colleague@acme.test'],
      cc: ['ops@acme-eu.test'],
      bcc: ['x@elsewhere.test'],
      subject: 'now',
      text: 'hello again',
    });
    expect(held.status).toBe('pending');
    const m = (await h.app.store.getMessage(held.message_id))!;
    const flags = Object.fromEntries(await recipientFlags(h.app, m));
    expect(flags).toEqual({
      'known@partner.test': { external: true, isNew: false },
      'colleague@acme.test': { external: false, isNew: true },
      'ops@acme-eu.test': { external: false, isNew: true },
      'x@elsewhere.test': { external: true, isNew: true },
    });
  });
});
