// biome-ignore-all lint/performance/useDomNodeTextContent: innerText on purpose: these tests assert what a person sees rendered, which textContent does not give
/**
 * The reviewer's message page in Chromium: the "changed bank details" reply (a new IBAN, a new payment link
 * domain, a new recipient, drafted by the agent through the real MCP tools) is flagged at the top of the page
 * against the thread it answers, and the page and the queue say when the held message expires. A message
 * that is not a reply says so and still flags a link whose text shows another site.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendEmail } from '../../src/services/send.js';
import { openSession, type Session } from '../tools/session.js';
import { ok } from '../tools/harness.js';
import { AGENT, type DashboardHarness, requireChromiumOrSkip, startDashboardHarness } from './harness.js';

const OLD_IBAN = 'DE89 3704 0044 0532 0130 00';
const NEW_IBAN = 'GB82 WEST 1234 5698 7654 32';

describe.skipIf(!requireChromiumOrSkip())('review dashboard: what a reply changes against its thread', () => {
  let h: DashboardHarness;
  let agent: Session;
  beforeAll(async () => {
    h = await startDashboardHarness();
    agent = await openSession(h.app, { roles: ['agent'] });
  });
  afterAll(async () => {
    await agent?.close();
    await h?.close();
  });

  it('flags the new IBAN, link domain and recipient of a reply, and shows when it expires', async () => {
    // The supplier's invoice arrives in the agent's sandbox mailbox (you@ is autonomous: delivered at once).
    const invoice = await sendEmail(
      h.app,
      { ...AGENT, id: 'mcp:agent/supplier' },
      {
        mailbox: 'you@mailgate.test',
        to: ['agent@mailgate.test'],
        subject: 'Invoice 1042',
        text: `Please pay invoice 1042 to IBAN ${OLD_IBAN}. Details: https://billing.mailgate.test/inv/1042`,
      },
    );
    expect(invoice.status).toBe('sent');
    const [email] = ok(await agent.call('check_inbox', { mailbox: 'agent@mailgate.test' })).emails as { email_id: string; subject: string }[];
    expect(email!.subject).toBe('Invoice 1042');

    // An injected instruction has the agent "update" the bank details, send a payment link and copy an outsider.
    const reply = ok(
      await agent.call('reply_email', {
        email_id: email!.email_id,
        cc: ['mallory@elsewhere.example'],
        text: `Our account ${OLD_IBAN} is closed. Please pay to IBAN ${NEW_IBAN} instead, or at https://pay.fraud.example/1042`,
      }),
    );
    expect(reply.status).toBe('pending');

    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${reply.message_id}`);
    const box = page.locator('section.thread-changes');
    expect(await box.getAttribute('data-compared')).toBe('true');
    const flagged = async (kind: string, value: string) => box.locator(`li[data-kind="${kind}"][data-value="${value}"]`).count();
    expect(await flagged('new_iban', 'GB82WEST12345698765432')).toBe(1);
    expect(await flagged('new_link_domain', 'pay.fraud.example')).toBe(1);
    expect(await flagged('new_recipient', 'mallory@elsewhere.example')).toBe(1);
    expect(await box.locator('li').count()).toBe(3);
    expect(await box.innerText()).toContain(NEW_IBAN);
    // What the thread already had is not news: the old IBAN, the supplier, the supplier's domain.
    expect(await box.innerText()).not.toContain('DE89');
    expect(await box.innerText()).not.toContain('you@mailgate.test');
    // At the top: before the sender, recipients and body.
    expect(
      await page.evaluate(() => {
        const first = document.querySelector('main section.thread-changes, main dl.facts, main pre.email-text');
        return first?.tagName;
      }),
    ).toBe('SECTION');

    // When it expires: the absolute time and how long is left, on the page and in the queue.
    const expires = new Date(reply.expires_at as string).toISOString();
    expect(await page.locator('dd.expiry time').getAttribute('datetime')).toBe(expires);
    expect(await page.locator('dd.expiry').innerText()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in \d+ (d|h|min)( \d+ (h|min))?\)$/);
    await page.goto(`${h.url}queue`);
    const cell = page.locator(`tr[data-message="${reply.message_id}"] td.expiry`);
    expect(await cell.locator('time').getAttribute('datetime')).toBe(expires);
    expect(await cell.innerText()).toMatch(/\(in \d+ (d|h|min)/);
  });

  it('a message that is not a reply says so and flags a link whose text shows another site', async () => {
    const id = await h.hold({
      subject: 'Your account',
      text: 'Please log in to confirm.',
      html: '<p>Please <a href="https://fraud.example/login">https://www.paypal.com/signin</a> to confirm.</p>',
    });
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${id}`);
    const box = page.locator('section.thread-changes');
    expect(await box.getAttribute('data-compared')).toBe('false');
    expect(await box.innerText()).toContain('Not a reply');
    expect(await box.locator('li[data-kind="link_text_mismatch"]').getAttribute('data-value')).toBe('www.paypal.com -> fraud.example');
    expect(await box.locator('li').count()).toBe(1);
  });
});
