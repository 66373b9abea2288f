/**
 * The dashboard behind `serve --http`'s server (src/http/server.ts), as `npm start` runs it: a real browser
 * signs in and approves through that server's Host and Origin guard.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard, type Dashboard } from '../../src/dashboard/index.js';
import { McpSessions } from '../../src/http/mcp-transports.js';
import { type RunningHttpServer, startHttpServer } from '../../src/http/server.js';
import { type DashboardHarness, requireChromiumOrSkip, signIn, startDashboardHarness, submitAndWait } from './harness.js';

describe.skipIf(!requireChromiumOrSkip())('review dashboard behind the MCP HTTP server', () => {
  let h: DashboardHarness;
  let dashboard: Dashboard;
  let http: RunningHttpServer;
  beforeAll(async () => {
    h = await startDashboardHarness();
    dashboard = createDashboard(h.app);
    http = await startHttpServer(h.app, new McpSessions(h.app), { host: '127.0.0.1', port: 0, fallback: (req, res) => dashboard.handle(req, res) });
  });
  afterAll(async () => {
    await http?.close();
    await dashboard?.close();
    await h?.close();
  });

  it('signs in and approves through the HTTP server', async () => {
    const id = await h.hold({ subject: 'Over HTTP' });
    const context = await h.browser.newContext();
    const page = await context.newPage();
    await signIn(page, `${http.url}/`, h.tokens.alice);
    expect(new URL(page.url()).pathname).toBe('/queue');
    await page.goto(`${http.url}/messages/${id}`);
    await submitAndWait(page, 'button[value=approve]');
    expect(await page.locator('[data-message-id]').getAttribute('data-status')).toBe('sent');
    await context.close();
  });
});
