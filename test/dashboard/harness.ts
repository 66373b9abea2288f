/**
 * Browser tests of the review dashboard: a real app on a real SQLite file, the dashboard on 127.0.0.1, and
 * Debian's Chromium driven by playwright-core.
 *
 *   describe.skipIf(!requireChromiumOrSkip())('...', () => {
 *     let h: DashboardHarness;
 *     beforeAll(async () => { h = await startDashboardHarness(); });
 *     afterAll(async () => { await h?.close(); });
 *   });
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { startDashboardServer } from '../../src/dashboard/standalone.js';
import type { Principal } from '../../src/services/context.js';
import { sendEmail, type SendInput } from '../../src/services/send.js';
import { createToken } from '../../src/services/tokens.js';
import type { Role } from '../../src/values.js';
import { tempDir } from '../helpers/tmp.js';

const CHROMIUM = '/usr/bin/chromium';
export const AGENT: Principal = { id: 'mcp:agent/test-client', roles: ['agent'], mailboxes: 'all' as const };
const OPERATOR: Principal = { id: 'cli:test-setup', roles: ['reviewer', 'operator'], mailboxes: 'all' as const };

/**
 * True when Chromium is installed. Otherwise a loud warning and false, for describe.skipIf; with CI set and
 * MAILGATE_ALLOW_SKIP unset it throws instead, so CI fails rather than skips (like the mail server tests).
 */
export function requireChromiumOrSkip(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const bar = '!'.repeat(100);
  const text = [
    '',
    bar,
    `!! SKIPPING the dashboard browser tests: ${CHROMIUM} is missing.`,
    '!! To install on Debian, as root: apt-get update && apt-get install -y --no-install-recommends chromium',
    bar,
    '',
  ].join('\n');
  if (process.env.CI && !process.env.MAILGATE_ALLOW_SKIP)
    throw new Error(`CI may not skip the dashboard browser tests (MAILGATE_ALLOW_SKIP=1 allows it):${text}`);
  process.stderr.write(text);
  return false;
}

async function launchChromium(): Promise<Browser> {
  // Chromium's own sandbox cannot start as root (CI runs as root); the pages under test are our own.
  const args = process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

export interface DashboardHarness {
  app: App;
  url: string;
  browser: Browser;
  /** Tokens by name: reviewer `alice`, operator `olga`, agent-only `bot`, combined `desk`. */
  tokens: Record<'alice' | 'olga' | 'bot' | 'desk', string>;
  /** A fresh browser context (its own cookies), signed in with the token unless `null`. */
  newPage(token: string | null): Promise<{ page: Page; context: BrowserContext }>;
  /** Has the agent draft a send from agent@mailgate.test (gated_send: held). */
  hold(input: Partial<SendInput> & { subject: string }): Promise<string>;
  close(): Promise<void>;
}

export async function startDashboardHarness(): Promise<DashboardHarness> {
  const dir = tempDir('mailgate-dashboard-');
  const app = await createApp(loadConfig({ db: dir.file('mailgate.db') }, {}));
  const server = await startDashboardServer(app, { pollMs: 150 });
  const browser = await launchChromium();
  const token = async (name: string, roles: Role[]) => (await createToken(app, OPERATOR, { name, roles, mailboxes: 'all' })).token;
  const tokens = {
    alice: await token('alice', ['reviewer']),
    olga: await token('olga', ['operator']),
    bot: await token('bot', ['agent']),
    desk: await token('desk', ['agent', 'reviewer']),
  };
  const contexts: BrowserContext[] = [];
  return {
    app,
    url: server.url,
    browser,
    tokens,
    async newPage(t) {
      const context = await browser.newContext();
      contexts.push(context);
      const page = await context.newPage();
      if (t !== null) await signIn(page, server.url, t);
      return { page, context };
    },
    async hold(input) {
      const r = await sendEmail(app, AGENT, { mailbox: 'agent@mailgate.test', to: ['you@mailgate.test'], text: 'Hello.', ...input });
      if (r.status !== 'pending') throw new Error(`expected the send to be held, got ${r.status}: ${r.reason ?? ''}`);
      return r.message_id;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      await server.close();
      await app.close();
      dir.cleanup();
    },
  };
}

export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(new URL('/login', url).href);
  await page.fill('#token', token);
  await submitAndWait(page, 'button[type=submit]');
}

/** Clicks a submit button and waits for the page the POST leads to (after its redirect) to load. */
export async function submitAndWait(page: Page, selector: string): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() });
  await page.click(selector);
  await navigated;
  await page.waitForLoadState('load');
}
