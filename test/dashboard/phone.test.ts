/**
 * The dashboard at desktop (1280 px) and phone (375 px) widths in Chromium, with long subjects and addresses:
 * no page is wider than the screen, the header wraps instead of being cut, the queue turns into cards, the
 * audit trail is rows whose detail expands, the HTML preview fits its content, and the favicon is served.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardHarness, requireChromiumOrSkip, startDashboardHarness, submitAndWait } from './harness.js';

const LONG_SUBJECT = `Quarterly_reconciliation_${'x'.repeat(140)} and a long tail of words to wrap`;
const LONG_ADDRESS = `${'very.long.recipient.name'.repeat(3)}@subdomain.of.an.extremely-long-domain-name.example`;

const overflow = (page: Page) => page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: window.innerWidth }));

describe.skipIf(!requireChromiumOrSkip())('dashboard at desktop and phone widths', () => {
  let h: DashboardHarness;
  let id: string;
  let rejected: string;
  beforeAll(async () => {
    h = await startDashboardHarness();
    id = await h.hold({
      subject: LONG_SUBJECT,
      to: [LONG_ADDRESS],
      cc: ['someone@example.com'],
      text: `A body with an unbroken token ${'y'.repeat(300)}`,
      html: `<p>${'Short paragraph. '.repeat(3)}</p><p>${'z'.repeat(200)}</p>`,
    });
    rejected = await h.hold({ subject: 'To be rejected', to: [LONG_ADDRESS] });
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${rejected}`);
    await page.fill('#reason', `Suspicious: ${'w'.repeat(120)}`);
    await submitAndWait(page, 'button.reject');
  });
  afterAll(async () => {
    await h?.close();
  });

  for (const width of [1280, 375]) {
    it(`no page is wider than a ${width} px screen`, async () => {
      const { page } = await h.newPage(h.tokens.alice);
      await page.setViewportSize({ width, height: 800 });
      for (const path of ['queue', `messages/${id}`, 'audit', `audit?message=${rejected}`, 'mailboxes']) {
        await page.goto(`${h.url}${path}`);
        const o = await overflow(page);
        expect(o.scroll, `${path} at ${width} px`).toBeLessThanOrEqual(o.inner);
      }
      // Every header item is on screen (wrapped, not cut off).
      await page.goto(`${h.url}queue`);
      for (const el of await page.locator('header a, header .who, header button').all()) {
        const box = (await el.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(width);
      }
    });
  }

  it('shows the queue as stacked cards on a phone and as a table on a desktop', async () => {
    const { page } = await h.newPage(h.tokens.alice);
    const row = page.locator(`tr[data-message="${id}"]`);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${h.url}queue`);
    expect(await page.locator('table.queue thead').isVisible()).toBe(false);
    expect(
      await row
        .locator('td')
        .first()
        .evaluate((td) => getComputedStyle(td).display),
    ).toBe('block');
    expect(await row.locator('td[data-label="Mailbox"]').evaluate((td) => getComputedStyle(td, '::before').content)).toBe('"Mailbox"');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(await page.locator('table.queue thead').isVisible()).toBe(true);
    expect(
      await row
        .locator('td')
        .first()
        .evaluate((td) => getComputedStyle(td).display),
    ).toBe('table-cell');
  });

  it('shows audit events as rows (when, who, what, where) whose detail expands', async () => {
    const { page } = await h.newPage(h.tokens.alice);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${h.url}audit?message=${rejected}`);
    const row = page.locator('tr.event', { has: page.locator('strong.action', { hasText: 'message.rejected' }) });
    expect(await row.count()).toBe(1);
    expect(await row.locator('td[data-label="Who"]').textContent()).toBe('token:alice');
    expect(await row.locator('td[data-label="When"] time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await row.locator('td[data-label="Where"]').textContent()).toContain(rejected);
    expect(await page.locator('code.detail').count()).toBe(0); // no raw JSON column
    const reason = row.locator('details dd', { hasText: 'Suspicious' });
    expect(await reason.isVisible()).toBe(false);
    await row.locator('details summary').click();
    expect(await reason.isVisible()).toBe(true);
    expect(await row.locator('details dt').allTextContents()).toContain('reason');
  });

  it('sizes the HTML preview to its content, capped with its own scroll', async () => {
    const long = await h.hold({ subject: 'Long HTML', html: `${'<p>A paragraph of a long newsletter, repeated.</p>'.repeat(200)}` });
    const { page } = await h.newPage(h.tokens.alice);
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${h.url}messages/${id}`);
    const short = (await page.locator('iframe.email-html').boundingBox())!.height;
    expect(short).toBeGreaterThan(60);
    expect(short).toBeLessThan(250);
    // The estimate leaves the whole short email visible: the frame's document does not scroll.
    const inner = await page
      .frameLocator('iframe.email-html')
      .locator('html')
      .evaluate((el) => el.scrollHeight - el.clientHeight);
    expect(inner).toBeLessThanOrEqual(2);
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForFunction(() => document.querySelector('iframe.email-html')!.getBoundingClientRect().height > 0);
    const narrow = (await page.locator('iframe.email-html').boundingBox())!.height;
    expect(narrow).toBeGreaterThan(short); // re-wrapped to the narrower frame
    await page.goto(`${h.url}messages/${long}`);
    const capped = (await page.locator('iframe.email-html').boundingBox())!.height;
    expect(capped).toBeLessThanOrEqual(800 * 0.7 + 1);
    expect(capped).toBeGreaterThan(400);
  });

  it('serves the favicon the pages reference, within the page CSP', async () => {
    const { page } = await h.newPage(null);
    await page.goto(`${h.url}login`);
    const href = await page.locator('link[rel=icon]').getAttribute('href');
    expect(href).toBe('/favicon.svg');
    const res = await page.request.get(new URL(href!, h.url).href);
    expect(res.status()).toBe(200);
    expect(res.headers()['content-type']).toBe('image/svg+xml');
    expect(res.headers()['x-content-type-options']).toBe('nosniff');
    expect(await res.text()).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    const csp = (await page.request.get(`${h.url}login`)).headers()['content-security-policy']!;
    expect(csp).toMatch(/img-src 'self'/);
  });
});
