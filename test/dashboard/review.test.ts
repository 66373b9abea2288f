/** Reviewing in the browser: the queue, a message's view, and each decision through the guarded services. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveMessage } from '../../src/services/review.js';
import { replyEmail, sendEmail } from '../../src/services/send.js';
import { AGENT, type DashboardHarness, requireChromiumOrSkip, startDashboardHarness, submitAndWait } from './harness.js';

describe.skipIf(!requireChromiumOrSkip())('review dashboard: deciding held mail', () => {
  let h: DashboardHarness;
  beforeAll(async () => {
    h = await startDashboardHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a reviewer signs in, sees the held message in the queue, approves it, and it is delivered', async () => {
    const id = await h.hold({ subject: 'Quarterly numbers', text: 'The numbers are attached.' });
    const { page } = await h.newPage(h.tokens.alice);
    expect(new URL(page.url()).pathname).toBe('/queue');
    const row = page.locator(`tr[data-message="${id}"]`);
    await expect.poll(() => row.textContent()).toContain('Quarterly numbers');
    expect(await row.textContent()).toContain(AGENT.id);
    await row.locator('a').click();
    expect(await page.locator('[data-message-id]').getAttribute('data-status')).toBe('pending');
    await submitAndWait(page, 'button[value=approve]');
    expect(await page.locator('[data-message-id]').getAttribute('data-status')).toBe('sent');
    expect(await page.locator('.notice.ok').textContent()).toContain('Status: sent');
    const m = (await h.app.store.getMessage(id))!;
    expect(m).toMatchObject({ status: 'sent', decided_by: 'token:alice' });
    const inbox = await h.app.store.listEmails({ mailbox: 'you@mailgate.test', folder: 'INBOX', unread_only: false, limit: 50 });
    expect(inbox.map((e) => e.subject)).toContain('Quarterly numbers');
    const events = await h.app.store.audit({ message_id: id, limit: 50 });
    expect(events.find((e) => e.action === 'message.approved')).toMatchObject({
      actor: 'token:alice',
      detail: expect.objectContaining({ confirmation: 'reviewer_session' }),
    });
  });

  it('rejects with a reason, which the audit log keeps', async () => {
    const id = await h.hold({ subject: 'Please wire the money' });
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${id}`);
    await page.fill('#reason', 'Looks like fraud');
    await submitAndWait(page, 'button.reject');
    expect(await page.locator('[data-message-id]').getAttribute('data-status')).toBe('rejected');
    expect(await h.app.store.getMessage(id)).toMatchObject({ status: 'rejected', decided_by: 'token:alice', decision_reason: 'Looks like fraud' });
    await page.goto(`${h.url}audit?message=${id}`);
    const trail = await page.locator('table.audit').textContent();
    expect(trail).toContain('message.rejected');
    expect(trail).toContain('Looks like fraud');
    expect(await page.locator('[data-chain]').getAttribute('data-chain')).toBe('ok');
  });

  it('a reason is required to reject; the message stays held', async () => {
    const id = await h.hold({ subject: 'No reason given' });
    const { page } = await h.newPage(h.tokens.alice);
    const res = await page.request.post(`${h.url}messages/${id}/reject`, {
      form: { csrf: await csrfOf(page, `${h.url}messages/${id}`), reason: '  ' },
      headers: { Origin: h.url.replace(/\/$/, '') },
    });
    expect(res.status()).toBe(400);
    expect((await h.app.store.getMessage(id))!.status).toBe('pending');
  });

  it('approves with edits: the edited subject, text and recipients are what is sent', async () => {
    const id = await h.hold({ subject: 'Draft subjct', text: 'Helo there.' });
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${id}`);
    await page.fill('#e-subject', 'Fixed subject');
    await page.fill('#e-text', 'Hello there.');
    await page.fill('#e-cc', 'agent@mailgate.test');
    await submitAndWait(page, 'text=Approve with these edits');
    expect(await page.locator('[data-message-id]').getAttribute('data-status')).toBe('sent');
    const m = (await h.app.store.getMessage(id))!;
    expect(m).toMatchObject({ subject: 'Fixed subject', text: 'Hello there.', cc: ['agent@mailgate.test'], to: ['you@mailgate.test'] });
    expect(m.original_content).toMatchObject({ subject: 'Draft subjct' });
  });

  it('shows every recipient, bcc set apart, external and new ones flagged, attachments and policy hits', async () => {
    const id = await h.hold({
      subject: 'Flags',
      text: 'The key is AKIAABCDEFGHIJKLMNOP here.',
      to: ['you@mailgate.test'],
      cc: ['stranger@example.com'],
      bcc: ['hidden@example.org'],
      attachments: [{ filename: 'report.pdf', content_type: 'application/pdf', content: Buffer.alloc(2048) }],
    });
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${id}`);
    const bcc = await page.locator('dd.bcc').textContent();
    expect(bcc).toContain('hidden@example.org');
    expect(bcc).toContain('hidden from the other recipients');
    const flagsOf = async (addr: string) => page.locator('.recipient', { hasText: addr }).locator('.flag').allTextContents();
    expect(await flagsOf('stranger@example.com')).toEqual(['external', 'new']);
    expect(await flagsOf('hidden@example.org')).toEqual(['external', 'new']);
    expect(await flagsOf('you@mailgate.test')).toEqual([]); // the first test sent to it: neither new nor external
    expect(await page.locator('text=report.pdf').count()).toBe(1);
    expect(await page.locator('body').textContent()).toContain('2.0 KB');
    const hits = (await h.app.store.getMessage(id))!.policy_hits;
    expect(hits.length).toBeGreaterThan(0);
    for (const hit of hits) expect(await page.locator('ul.hits').textContent()).toContain(hit.code);
  });

  it('shows the thread a reply answers', async () => {
    await sendEmail(
      h.app,
      { id: 'mcp:agent/person', roles: ['agent'], mailboxes: 'all' as const },
      { mailbox: 'you@mailgate.test', to: ['agent@mailgate.test'], subject: 'Can we meet Tuesday?', text: 'Would 3pm work for you?' },
    );
    const [email] = await h.app.store.searchEmails({ mailbox: 'agent@mailgate.test', query: 'Tuesday', limit: 1 });
    const r = await replyEmail(h.app, AGENT, { email_id: email!.email_id, text: 'Tuesday 3pm works.' });
    expect(r.status).toBe('pending');
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${r.message_id}`);
    const thread = await page.locator('dl.thread').textContent();
    expect(thread).toContain('you@mailgate.test');
    expect(thread).toContain('Can we meet Tuesday?');
    expect(thread).toContain('Would 3pm work for you?');
  });

  it('updates the queue live when mail is held and when it is decided elsewhere', async () => {
    const { page } = await h.newPage(h.tokens.alice);
    // The live feed is connected once /events answers; the server reads the audit head as it subscribes.
    const feed = page.waitForResponse((r) => new URL(r.url()).pathname === '/events');
    await page.goto(`${h.url}queue`);
    await feed;
    const id = await h.hold({ subject: 'Arrives while watching' });
    await page.locator(`tr[data-message="${id}"]`).waitFor({ timeout: 10_000 });
    await approveMessage(h.app, { id: 'cli:someone-else', roles: ['reviewer'], mailboxes: 'all' as const }, id);
    await page.locator(`tr[data-message="${id}"]`).waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('filters the queue by agent and age', async () => {
    const other = await sendEmail(
      h.app,
      { id: 'mcp:agent/other-bot', roles: ['agent'], mailboxes: 'all' as const },
      { mailbox: 'agent@mailgate.test', to: ['you@mailgate.test'], subject: 'From the other bot', text: 'x' },
    );
    const mine = await h.hold({ subject: 'From the test client' });
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}queue?agent=${encodeURIComponent('mcp:agent/other-bot')}`);
    expect(await page.locator(`tr[data-message="${other.message_id}"]`).count()).toBe(1);
    expect(await page.locator(`tr[data-message="${mine}"]`).count()).toBe(0);
    await page.goto(`${h.url}queue?age=gt1h`);
    expect(await page.locator('[data-empty]').count()).toBe(1);
  });

  it('a token that can also draft mail cannot approve here, but the page says why and rejecting works', async () => {
    const id = await h.hold({ subject: 'Desk token' });
    const { page } = await h.newPage(h.tokens.desk);
    await page.goto(`${h.url}messages/${id}`);
    expect(await page.locator('button[value=approve]').count()).toBe(0);
    expect(await page.locator('.actions').textContent()).toContain('needs a person');
    await page.fill('#reason', 'not now');
    await submitAndWait(page, 'button.reject');
    expect((await h.app.store.getMessage(id))!.status).toBe('rejected');
  });

  it('an operator changes a mailbox mode with a reason; the history shows it; a reviewer gets no form', async () => {
    const { page } = await h.newPage(h.tokens.olga);
    await page.goto(`${h.url}mailboxes`);
    const form = page.locator('form', { has: page.locator('input[name=address][value="you@mailgate.test"]') });
    await form.locator('select[name=mode]').selectOption('gated_all');
    await form.locator('input[name=reason]').fill('holiday cover');
    await submitAndWait(page, 'form:has(input[name=address][value="you@mailgate.test"]) button');
    expect(await page.locator('.notice.ok').textContent()).toContain('Mode changed');
    expect((await h.app.store.getMailbox('you@mailgate.test'))!.oversight_mode).toBe('gated_all');
    expect(await page.locator('body').textContent()).toContain('holiday cover');
    const reviewer = await h.newPage(h.tokens.alice);
    await reviewer.page.goto(`${h.url}mailboxes`);
    expect(await reviewer.page.locator('select[name=mode]').count()).toBe(0);
  });
});

async function csrfOf(page: import('playwright-core').Page, url: string): Promise<string> {
  await page.goto(url);
  return (await page.locator('input[name=csrf]').first().getAttribute('value'))!;
}
