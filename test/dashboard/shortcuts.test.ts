/**
 * The queue's keyboard shortcuts in Chromium: j / k and the arrows move the selection, a and r open the
 * message's approve or reject form and never decide by themselves, and keys typed into a field are ignored.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardHarness, requireChromiumOrSkip, startDashboardHarness, submitAndWait } from './harness.js';

const selected = (page: Page) => page.evaluate(() => document.querySelector('#queue-list tr.selected')?.getAttribute('data-message') ?? null);

describe.skipIf(!requireChromiumOrSkip())('queue keyboard shortcuts', () => {
  let h: DashboardHarness;
  let ids: string[];
  beforeAll(async () => {
    h = await startDashboardHarness();
    ids = [await h.hold({ subject: 'First held' }), await h.hold({ subject: 'Second held' }), await h.hold({ subject: 'Third held' })];
  });
  afterAll(async () => {
    await h?.close();
  });

  async function queue(): Promise<{ page: Page; order: string[] }> {
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}queue`);
    const order = await page.locator('#queue-list tr[data-message]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message')!));
    return { page, order };
  }

  it('j / k and the arrow keys move the selection, which the focused link follows', async () => {
    const { page, order } = await queue();
    expect(await selected(page)).toBeNull();
    await page.keyboard.press('j');
    expect(await selected(page)).toBe(order[0]);
    await page.keyboard.press('j');
    await page.keyboard.press('ArrowDown');
    expect(await selected(page)).toBe(order[2]);
    await page.keyboard.press('j'); // stays on the last
    expect(await selected(page)).toBe(order[2]);
    await page.keyboard.press('k');
    expect(await selected(page)).toBe(order[1]);
    await page.keyboard.press('ArrowUp');
    expect(await selected(page)).toBe(order[0]);
    expect(await page.evaluate(() => document.activeElement?.closest('tr')?.getAttribute('data-message'))).toBe(order[0]);
    expect(new URL(page.url()).pathname).toBe('/queue');
  });

  it('ignores keys typed into a field or with a modifier', async () => {
    const { page } = await queue();
    await page.focus('select[name=agent]');
    await page.keyboard.press('j');
    await page.keyboard.press('a');
    expect(await selected(page)).toBeNull();
    expect(new URL(page.url()).pathname).toBe('/queue');
    await page.locator('h1').click();
    await page.keyboard.press('Control+j');
    expect(await selected(page)).toBeNull();
  });

  it('a opens the approve form of the selected message without approving it', async () => {
    const { page, order } = await queue();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await Promise.all([page.waitForURL(`**/messages/${order[1]}#approve`), page.keyboard.press('a')]);
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('approve');
    expect(await page.locator('form#approve:target').count()).toBe(1);
    // Neither a repeated key nor Enter on the focused form decides anything.
    await page.keyboard.press('a');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    expect(await page.locator('[data-message-id]').getAttribute('data-status')).toBe('pending');
    expect((await h.app.store.getMessage(order[1]!))!.status).toBe('pending');
    // The approval itself is still the form's button, through the CSRF-guarded POST.
    await submitAndWait(page, '#approve button[value=approve]');
    expect((await h.app.store.getMessage(order[1]!))!.status).toBe('sent');
  });

  it('r opens the reject form with the cursor in the required reason, and submits nothing', async () => {
    const { page, order } = await queue();
    const target = order[0]!;
    await page.keyboard.press('j');
    await Promise.all([page.waitForURL(`**/messages/${target}#reject`), page.keyboard.press('r')]);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('reason');
    await page.keyboard.type('jk ar'); // typed into the reason, not taken as shortcuts
    expect(await page.inputValue('#reason')).toBe('jk ar');
    expect(new URL(page.url()).pathname).toBe(`/messages/${target}`);
    expect((await h.app.store.getMessage(target))!.status).toBe('pending');
    expect(ids).toContain(target);
  });

  it('keeps the selection when the live feed replaces the list', async () => {
    const { page } = await h.newPage(h.tokens.alice);
    const feed = page.waitForResponse((r) => new URL(r.url()).pathname === '/events');
    await page.goto(`${h.url}queue`);
    await feed;
    await page.keyboard.press('j');
    const first = await selected(page);
    const added = await h.hold({ subject: 'Arrives while selecting' });
    await page.locator(`tr[data-message="${added}"]`).waitFor({ timeout: 10_000 });
    expect(await selected(page)).toBe(first);
  });
});
