/**
 * The agent's metadata on the review pages, in a real Chromium: key/value pairs in the queue row and on the
 * message page, shown as text (a model wrote them, so markup in a key or value must not become markup).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardHarness, requireChromiumOrSkip, startDashboardHarness } from './harness.js';

describe.skipIf(!requireChromiumOrSkip())('review dashboard: metadata', () => {
  let h: DashboardHarness;
  beforeAll(async () => {
    h = await startDashboardHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows each pair in the queue and on the message page, escaped', async () => {
    const hostile = '<img src=x onerror="window.pwned=1"><b>T-7</b>';
    const id = await h.hold({ subject: 'Refund for order 7', metadata: { ticket: hostile, priority: 2, vip: true } });
    const plain = await h.hold({ subject: 'No metadata here' });
    const { page } = await h.newPage(h.tokens.alice);

    const row = page.locator(`tr[data-message="${id}"]`);
    await expect.poll(() => row.locator('.meta').count()).toBe(3);
    expect(await row.locator('.meta[data-key="priority"]').textContent()).toBe('priority=2');
    expect(await row.locator('.meta[data-key="vip"]').textContent()).toBe('vip=true');
    expect(await row.locator('.meta[data-key="ticket"]').textContent()).toBe(`ticket=${hostile}`);
    expect(await page.locator(`tr[data-message="${plain}"] .meta`).count()).toBe(0);

    await page.goto(`${h.url}messages/${id}`);
    const facts = page.locator('dl.facts');
    expect(await facts.locator('dt', { hasText: 'Metadata' }).count()).toBe(1);
    expect(await facts.locator('.meta[data-key="ticket"]').textContent()).toBe(`ticket=${hostile}`);
    expect(await page.locator('main b, main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();

    await page.goto(`${h.url}messages/${plain}`);
    expect(await page.locator('dl.facts dt', { hasText: 'Metadata' }).count()).toBe(0);
  });
});
