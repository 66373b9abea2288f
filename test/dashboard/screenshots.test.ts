/**
 * Screenshots of the queue and a message (desktop) and of the queue (phone) for the README. `npm run screenshots` writes them to
 * docs/screenshots/; a plain test run renders the same pages into a temp directory (so this keeps working).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyEmail, sendEmail } from '../../src/services/send.js';
import { tempDir } from '../helpers/tmp.js';
import { AGENT, type DashboardHarness, requireChromiumOrSkip, startDashboardHarness } from './harness.js';

describe.skipIf(!requireChromiumOrSkip())('dashboard screenshots', () => {
  let h: DashboardHarness;
  const tmp = tempDir('mailgate-shots-');
  const out = process.env.MAILGATE_SCREENSHOTS ? join(import.meta.dirname, '../../docs/screenshots') : tmp.path;
  beforeAll(async () => {
    h = await startDashboardHarness();
  });
  afterAll(async () => {
    await h?.close();
    tmp.cleanup();
  });

  it('captures the queue and a message view, and the queue at phone width', async () => {
    mkdirSync(out, { recursive: true });
    await sendEmail(
      h.app,
      { id: 'mcp:agent/customer', roles: ['agent'], mailboxes: 'all' as const },
      {
        mailbox: 'you@mailgate.test',
        to: ['agent@mailgate.test'],
        subject: 'Refund for order 1042?',
        text: 'Hi, the blender arrived broken. Can I get a refund?',
      },
    );
    const [email] = await h.app.store.searchEmails({ mailbox: 'agent@mailgate.test', query: 'blender', limit: 1 });
    const reply = await replyEmail(h.app, AGENT, {
      email_id: email!.email_id,
      cc: ['claims@insurer.example'],
      bcc: ['archive@elsewhere.example'],
      text: 'Sorry about the blender! I have issued a full refund of EUR 89.00; it reaches your card in 3-5 days.',
      html: '<p>Sorry about the blender!</p><p>I have issued a <b>full refund</b> of EUR 89.00. <a href="https://shop.example/orders/1042">Your order</a></p><img src="https://tracker.example/pixel.gif">',
      attachments: [{ filename: 'refund-1042.pdf', content_type: 'application/pdf', content: Buffer.alloc(48_213) }],
    });
    await h.hold({ subject: 'Weekly status: <b>all green</b>', to: ['team@mailgate.test'], text: 'All green this week.' });
    await sendEmail(
      h.app,
      { id: 'mcp:agent/billing-bot', roles: ['agent'], mailboxes: 'all' as const },
      {
        mailbox: 'agent@mailgate.test',
        to: ['finance@partner.example'],
        subject: 'Invoice 2026-11',
        text: 'Attached. Key AKIAABCDEFGHIJKLMNOP',
      },
    );
    const { page } = await h.newPage(h.tokens.alice);
    await page.setViewportSize({ width: 1280, height: 560 });
    await page.goto(`${h.url}queue`);
    await page.screenshot({ path: join(out, 'queue.png'), fullPage: true });
    await page.goto(`${h.url}messages/${reply.message_id}`);
    // fullPage capture blanks the sandboxed iframe in headless Chromium: size the viewport to the page instead.
    await page.setViewportSize({ width: 1280, height: await page.evaluate(() => document.documentElement.scrollHeight) });
    // The resized page has painted: two animation frames after the resize.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    await page.screenshot({ path: join(out, 'message.png') });
    expect(await page.locator('dl.thread').textContent()).toContain('Refund for order 1042?');
    await page.setViewportSize({ width: 375, height: 720 });
    await page.goto(`${h.url}queue`);
    await page.keyboard.press('j'); // shows the keyboard selection on the first card
    await page.screenshot({ path: join(out, 'queue-phone.png'), fullPage: true });
    expect(await page.evaluate(() => document.scrollingElement!.scrollWidth)).toBeLessThanOrEqual(375);
  });
});
