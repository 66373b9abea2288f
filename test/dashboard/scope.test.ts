/**
 * A reviewer and operator token bound to team@, signed into the dashboard in Chromium, attacks agent@'s mail:
 * the queue, message, audit and mailboxes pages never show it; its message page answers exactly as an unknown
 * id's does; approving it or changing agent@'s mode with a form tampered in the page (valid session and CSRF
 * token) is refused, changes nothing, and is audited as authz.denied naming the page.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '../../src/services/context.js';
import { createMailbox } from '../../src/services/mailboxes.js';
import { sendEmail } from '../../src/services/send.js';
import { createToken } from '../../src/services/tokens.js';
import { AGENT, type DashboardHarness, requireChromiumOrSkip, startDashboardHarness, submitAndWait } from './harness.js';

const TEAM = 'team@mailgate.test';
const CLI: Principal = { id: 'cli:scope-setup', roles: ['reviewer', 'operator'], mailboxes: 'all' };

describe.skipIf(!requireChromiumOrSkip())('dashboard for a token bound to one mailbox', () => {
  let h: DashboardHarness;
  let page: Page;
  let foreign: string;
  let own: string;
  const text = async (path: string) => {
    const r = await page.goto(new URL(path, h.url).href);
    return { status: r?.status(), body: (await page.textContent('main')) ?? '' };
  };
  const denied = async () => (await h.app.store.audit({ limit: 100_000 })).filter((e) => e.action === 'authz.denied' && e.actor === 'token:tina');

  beforeAll(async () => {
    h = await startDashboardHarness();
    await createMailbox(h.app, CLI, { address: TEAM, oversight_mode: 'gated_send' });
    foreign = await h.hold({ subject: 'Secret merger terms' });
    const r = await sendEmail(h.app, AGENT, { mailbox: TEAM, to: ['client@example.com'], subject: 'Team reply', text: 'Hello.' });
    own = r.message_id;
    const { token } = await createToken(h.app, CLI, { name: 'tina', roles: ['reviewer', 'operator'], mailboxes: [TEAM] });
    ({ page } = await h.newPage(token));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('shows only team@ in the queue, the mailboxes page and the audit page', async () => {
    const queue = await text('/queue');
    expect(queue.body).toContain('Team reply');
    expect(queue.body).not.toContain('Secret merger terms');
    expect(queue.body).not.toContain('agent@mailgate.test');
    const mailboxes = await text('/mailboxes');
    expect(mailboxes.body).toContain(TEAM);
    expect(mailboxes.body).not.toMatch(/agent@mailgate\.test|you@mailgate\.test/);
    const audit = await text('/audit');
    expect(audit.body).toContain(own);
    expect(audit.body).not.toContain(foreign);
    expect(audit.body).not.toContain('Secret merger terms');
  });

  it('answers a foreign message, its status and its audit trail exactly as unknown ones', async () => {
    const unknown = 'msg_AAAAAAAAAAAAAAAAAAAA';
    for (const path of ['/messages/ID', '/messages/ID/status', '/audit?message=ID']) {
      const a = await text(path.replace('ID', foreign));
      const b = await text(path.replace('ID', unknown));
      expect(a.status, path).toBe(b.status);
      expect(a.status, path).toBeGreaterThanOrEqual(400);
      expect(a.body.split(foreign).join('<id>'), path).toBe(b.body.split(unknown).join('<id>'));
    }
    const other = await text('/audit?mailbox=agent@mailgate.test');
    const none = await text('/audit?mailbox=nobody@mailgate.test');
    expect(other.status).toBe(none.status);
    expect(other.body.split('agent@mailgate.test').join('<m>')).toBe(none.body.split('nobody@mailgate.test').join('<m>'));
  });

  it("refuses approving agent@'s mail through a tampered form, and audits it", async () => {
    const before = (await denied()).length;
    await page.goto(new URL(`/messages/${own}`, h.url).href);
    // The page's own approve form, with its valid CSRF token, pointed at the other mailbox's message.
    await page.evaluate((id) => {
      const form = document.querySelector('form[action$="/approve"]') as HTMLFormElement;
      form.action = `/messages/${id}/approve`;
    }, foreign);
    await submitAndWait(page, 'form[action$="/approve"] button[type=submit]');
    expect((await h.app.store.getMessage(foreign))?.status).toBe('pending');
    const events = (await denied()).slice(before);
    expect(events.map((e) => [e.detail.via, e.detail.target, e.mailbox])).toContainEqual([
      `dashboard:POST /messages/${foreign}/approve`,
      foreign,
      'agent@mailgate.test',
    ]);
  });

  it("refuses changing agent@'s mode through a tampered form, and still changes its own", async () => {
    await page.goto(new URL('/mailboxes', h.url).href);
    await page.evaluate(() => {
      (document.querySelector('form[action="/mailboxes/mode"] input[name=address]') as HTMLInputElement).value = 'agent@mailgate.test';
    });
    await page.selectOption('form[action="/mailboxes/mode"] select[name=mode]', 'autonomous');
    await page.fill('form[action="/mailboxes/mode"] [name=reason]', 'let it all through');
    await submitAndWait(page, 'form[action="/mailboxes/mode"] button[type=submit]');
    expect((await h.app.store.getMailbox('agent@mailgate.test'))?.oversight_mode).toBe('gated_send');
    expect((await page.textContent('main')) ?? '').toMatch(/unknown mailbox 'agent@mailgate\.test'; known mailboxes: team@mailgate\.test/);
    expect((await denied()).some((e) => e.detail.via === 'dashboard:POST /mailboxes/mode' && e.mailbox === 'agent@mailgate.test')).toBe(true);

    await page.goto(new URL('/mailboxes', h.url).href);
    await page.selectOption('form[action="/mailboxes/mode"] select[name=mode]', 'read_only');
    await page.fill('form[action="/mailboxes/mode"] [name=reason]', 'incident');
    await submitAndWait(page, 'form[action="/mailboxes/mode"] button[type=submit]');
    expect((await h.app.store.getMailbox(TEAM))?.oversight_mode).toBe('read_only');
  });
});
