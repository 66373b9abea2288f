/**
 * The dashboard in Chromium, signed in with a token that holds agent and operator: the model behind that token
 * could drive the page too, so it cannot make a mailbox looser there (it is told the command a person runs); it can
 * still tighten. An operator-only token loosens as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/services/tokens.js';
import { type DashboardHarness, requireChromiumOrSkip, startDashboardHarness, submitAndWait } from './harness.js';

describe.skipIf(!requireChromiumOrSkip())('loosening from the dashboard', () => {
  let h: DashboardHarness;
  let deskop: string;
  beforeAll(async () => {
    h = await startDashboardHarness();
    deskop = (
      await createToken(h.app, { id: 'cli:setup', roles: ['operator'], mailboxes: 'all' }, { name: 'deskop', roles: ['agent', 'operator'], mailboxes: 'all' })
    ).token;
  });
  afterAll(async () => {
    await h?.close();
  });

  async function changeMode(token: string, address: string, mode: string, reason: string) {
    const { page } = await h.newPage(token);
    await page.goto(`${h.url}mailboxes`);
    const form = page.locator('form', { has: page.locator(`input[name=address][value="${address}"]`) });
    await form.locator('select[name=mode]').selectOption(mode);
    await form.locator('input[name=reason]').fill(reason);
    await submitAndWait(page, `form:has(input[name=address][value="${address}"]) button`);
    return page;
  }
  const modeOf = async (a: string) => (await h.app.store.getMailbox(a))!.oversight_mode;

  it('a token that can also draft cannot loosen a mode; it is told the command; nothing changes', async () => {
    const page = await changeMode(deskop, 'agent@mailgate.test', 'autonomous', 'let me send');
    const notice = await page.locator('.notice.error').textContent();
    expect(notice).toMatch(/CONFIRMATION_REQUIRED: /);
    expect(notice).toContain("mailgate mailbox update agent@mailgate.test --mode autonomous --reason 'let me send'");
    expect(await modeOf('agent@mailgate.test')).toBe('gated_send');
    expect((await h.app.store.audit({ mailbox: 'agent@mailgate.test', limit: 100 })).map((e) => e.action)).not.toContain('mailbox.mode_changed');
  });

  it('the same token can tighten', async () => {
    const page = await changeMode(deskop, 'agent@mailgate.test', 'gated_all', 'incident');
    expect(await page.locator('.notice.ok').textContent()).toContain('Mode changed');
    expect(await modeOf('agent@mailgate.test')).toBe('gated_all');
  });

  it('an operator-only token loosens, recorded as operator_session', async () => {
    const page = await changeMode(h.tokens.olga, 'agent@mailgate.test', 'monitored', 'reviewed');
    expect(await page.locator('.notice.ok').textContent()).toContain('Mode changed');
    expect(await modeOf('agent@mailgate.test')).toBe('monitored');
    const changed = (await h.app.store.audit({ mailbox: 'agent@mailgate.test', limit: 100 })).filter((e) => e.action === 'mailbox.mode_changed');
    expect(changed.at(-1)!.detail).toMatchObject({ confirmation: 'operator_session', loosens: ['mode gated_all -> monitored'] });
  });
});
