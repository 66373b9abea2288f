/**
 * The dashboard shows mail a model drafted (possibly under a prompt injection) to a person who can approve
 * it: viewing must run no script and load nothing, markup must show as text, and another page open in the
 * same browser must not be able to decide mail.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FRAME_CSP } from '../../src/dashboard/render-email.js';
import { type DashboardHarness, requireChromiumOrSkip, startDashboardHarness, submitAndWait } from './harness.js';

/** A server on 127.0.0.1 standing in for the outside world: it counts every request, and serves the attacker's page. */
async function startWitness(): Promise<{ url: string; hits: string[]; attackerPage: string; server: Server }> {
  const hits: string[] = [];
  const w = {
    url: '',
    hits,
    attackerPage: '',
    server: createServer((req, res) => {
      if (req.url === '/attack') {
        res.writeHead(200, { 'Content-Type': 'text/html' });
        return res.end(w.attackerPage);
      }
      hits.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('x');
    }),
  };
  await new Promise<void>((resolve) => w.server.listen(0, '127.0.0.1', () => resolve()));
  w.url = `http://127.0.0.1:${(w.server.address() as AddressInfo).port}`;
  return w;
}

function hostileHtml(witness: string): string {
  return `<html><head><link rel="stylesheet" href="${witness}/link.css"><style>@import url(${witness}/import.css); body{background:url(${witness}/bg.png)}</style></head>
<body onload="window.ranOnload=1;parent.postMessage('onload','*')">
<p>Dear customer,</p>
<script>window.ranScript=1;parent.postMessage('script','*');fetch('${witness}/fetch')</script>
<img src="${witness}/pixel.gif" onerror="window.ranOnerror=1;parent.postMessage('onerror','*')">
<img src="x" onerror="window.ranOnerror=1;parent.postMessage('onerror','*')">
<a href="javascript:window.ranJs=1;parent.postMessage('js','*')" id="jslink">Click me</a>
<a href="${witness}/phish">Account</a>
<div style="background-image:url(${witness}/div.png)">styled</div>
<svg><script>window.ranSvg=1;parent.postMessage('svg','*')</script><image href="${witness}/svg.png"/><feImage href="${witness}/fe.png"/></svg>
<iframe src="${witness}/frame"></iframe><object data="${witness}/obj"></object>
<form action="${witness}/form"><input name="q"><button>Go</button></form>
<meta http-equiv="refresh" content="0;url=${witness}/refresh">
</body></html>`;
}

/** Everything that could show a script ran: markers in the email's frame and messages posted to the page. */
async function scriptTraces(page: Page): Promise<unknown[]> {
  const traces: unknown[] = [...(await page.evaluate(() => (window as unknown as { posted: unknown[] }).posted ?? []))];
  for (const frame of page.frames()) {
    if (frame === page.mainFrame()) continue;
    traces.push(
      ...(await frame.evaluate(() => {
        const w = window as unknown as Record<string, unknown>;
        return ['ranScript', 'ranOnload', 'ranOnerror', 'ranJs', 'ranSvg'].filter((k) => w[k] !== undefined);
      })),
    );
  }
  return traces;
}

describe.skipIf(!requireChromiumOrSkip())('review dashboard: security', () => {
  let h: DashboardHarness;
  let witness: Awaited<ReturnType<typeof startWitness>>;
  beforeAll(async () => {
    h = await startDashboardHarness();
    witness = await startWitness();
  });
  afterAll(async () => {
    await h?.close();
    witness?.server.close();
  });

  async function openWatched(id: string): Promise<{ page: Page; requests: string[]; failures: Map<string, string> }> {
    const { page, context } = await h.newPage(h.tokens.alice);
    const requests: string[] = [];
    const failures = new Map<string, string>();
    context.on('request', (r) => requests.push(r.url()));
    context.on('requestfailed', (r) => failures.set(r.url(), r.failure()?.errorText ?? ''));
    await context.addInitScript(() => {
      if (window !== window.top) return;
      const w = window as unknown as { posted: unknown[] };
      w.posted = [];
      window.addEventListener('message', (e) => w.posted.push(e.data));
    });
    await page.goto(`${h.url}messages/${id}`);
    await page.waitForLoadState('load');
    // Kept as a window: the claim is that nothing happens (no script, no request), and no event marks "nothing".
    await page.waitForTimeout(500); // anything the email could trigger has had its chance
    return { page, requests, failures };
  }

  it('renders hostile HTML with no script run and no network request', async () => {
    const id = await h.hold({ subject: 'Invoice', html: hostileHtml(witness.url), text: 'Dear customer' });
    const { page, requests } = await openWatched(id);
    const frame = page.locator('iframe.email-html');
    expect(await frame.getAttribute('sandbox')).toBe('');
    expect(await page.frameLocator('iframe.email-html').locator('body').textContent()).toContain('Dear customer');
    await page
      .frameLocator('iframe.email-html')
      .locator('#jslink, a:has-text("Click me")')
      .first()
      .click({ timeout: 2000 })
      .catch(() => undefined);
    await page.waitForTimeout(300); // a window, as above: whatever the click could start has had its chance
    expect(await scriptTraces(page)).toEqual([]);
    expect(witness.hits).toEqual([]);
    expect(requests.filter((u) => !u.startsWith(h.url))).toEqual([]);
    // The link targets are listed as text for the reviewer, not as links.
    expect(await page.locator('ul.links').textContent()).toContain(`${witness.url}/phish`);
  });

  it('the sandbox and the frame CSP alone stop script and remote loads (the sanitiser is only one layer)', async () => {
    const id = await h.hold({ subject: 'Layers', html: '<p>plain</p>' });
    const { page, requests, failures } = await openWatched(id);
    const before = requests.length;
    // Put the unsanitised HTML into the same sandboxed iframe, with the same CSP, bypassing the sanitiser. The
    // probe is on the dashboard's own origin, which the page CSP allows: only the frame's own CSP stops it.
    const probe = `${h.url}static/probe.png`;
    await page.evaluate(
      ([html, csp, p]) => {
        const frame = document.querySelector('iframe.email-html') as HTMLIFrameElement;
        frame.srcdoc = `<meta http-equiv="Content-Security-Policy" content="${csp}">${html}<img src="${p}">`;
      },
      [hostileHtml(witness.url), FRAME_CSP, probe] as const,
    );
    // The probe comes last in the frame: wait until it was attempted and every load attempted so far has ended.
    await expect
      .poll(
        () => {
          const tried = requests.slice(before);
          return tried.includes(probe) && tried.every((u) => failures.has(u));
        },
        { timeout: 5000 },
      )
      .toBe(true);
    expect(await scriptTraces(page)).toEqual([]);
    expect(witness.hits).toEqual([]);
    // Chromium reports the loads it refused as requests that failed for CSP ('csp'): none went out.
    const attempted = requests.slice(before);
    expect(attempted.length).toBeGreaterThan(0);
    for (const url of attempted) expect({ url, failure: failures.get(url) }).toEqual({ url, failure: expect.stringMatching(/csp/i) });
    expect(attempted).toContain(probe);
  });

  it('shows a subject with markup as text, in the queue and on the message page', async () => {
    const subject = '<img src=x onerror="window.pwned=1"><b>Bold</b> & <script>window.pwned=2</script>';
    const id = await h.hold({ subject });
    const { page } = await h.newPage(h.tokens.alice);
    expect(await page.locator(`tr[data-message="${id}"] td.subject`).textContent()).toBe(subject);
    await page.goto(`${h.url}messages/${id}`);
    expect(await page.locator('h1').textContent()).toBe(subject);
    expect(await page.locator('dd.subject-line').textContent()).toBe(subject);
    expect(await page.locator('main b, main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  it("refuses a cross-site POST: another origin on this machine cannot reject mail with the reviewer's cookie", async () => {
    const id = await h.hold({ subject: 'Keep me' });
    witness.attackerPage =
      `<form id="f" method="post" action="${h.url}messages/${id}/reject"><input name="reason" value="attacker"><input name="csrf" value="guess"></form>` +
      '<script>document.getElementById("f").submit()</script>';
    const { page } = await h.newPage(h.tokens.alice);
    const refused = page.waitForResponse((r) => r.url().endsWith(`/messages/${id}/reject`));
    await page.goto(`${witness.url}/attack`);
    expect((await refused).status()).toBe(403);
    expect((await h.app.store.getMessage(id))!.status).toBe('pending');
  });

  it("refuses a POST without the session's CSRF token, and one from a foreign Origin even with it", async () => {
    const id = await h.hold({ subject: 'Still keep me' });
    const { page } = await h.newPage(h.tokens.alice);
    await page.goto(`${h.url}messages/${id}`);
    const csrf = (await page.locator('input[name=csrf]').first().getAttribute('value'))!;
    const own = h.url.replace(/\/$/, '');
    const post = (form: Record<string, string>, origin: string) =>
      page.request.post(`${h.url}messages/${id}/reject`, { form, headers: { Origin: origin }, maxRedirects: 0 });
    expect((await post({ reason: 'no token' }, own)).status()).toBe(403);
    expect((await post({ reason: 'wrong token', csrf: `${csrf}x` }, own)).status()).toBe(403);
    expect((await post({ reason: 'evil origin', csrf }, 'http://evil.example')).status()).toBe(403);
    expect((await h.app.store.getMessage(id))!.status).toBe('pending');
    expect((await post({ reason: 'the real form', csrf }, own)).status()).toBe(303);
    expect((await h.app.store.getMessage(id))!.status).toBe('rejected');
  });

  it('an agent-only token cannot sign in; an unknown token neither', async () => {
    for (const token of [h.tokens.bot, 'mgt_not-a-real-token']) {
      const { page, context } = await h.newPage(token);
      expect(new URL(page.url()).pathname).toBe('/login');
      expect(await page.locator('.notice.error').textContent()).toMatch(token === h.tokens.bot ? /only the agent role/ : /not valid here/);
      expect(await context.cookies()).toEqual([]);
      await page.goto(`${h.url}queue`);
      expect(new URL(page.url()).pathname).toBe('/login');
    }
  });

  it('sets a strict session cookie and the security headers on every page', async () => {
    const { page, context } = await h.newPage(h.tokens.alice);
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: 'mailgate_session', httpOnly: true, sameSite: 'Strict', path: '/' });
    for (const path of ['queue', 'audit', 'mailboxes', 'login', 'static/app.js']) {
      const res = (await page.goto(`${h.url}${path}`))!;
      const headers = res.headers();
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(headers['content-security-policy']).toContain("script-src 'self'");
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['referrer-policy']).toBe('same-origin');
    }
  });

  it('logout ends the session: the old cookie no longer works', async () => {
    const { page, context } = await h.newPage(h.tokens.alice);
    const [cookie] = await context.cookies();
    await submitAndWait(page, 'header button');
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.goto(`${h.url}queue`);
    expect(new URL(page.url()).pathname).toBe('/login');
    const replay = await h.browser.newContext();
    await replay.addCookies([cookie!]);
    const again = await replay.newPage();
    await again.goto(`${h.url}queue`);
    expect(new URL(again.url()).pathname).toBe('/login');
    await replay.close();
  });

  it("a revoked token's session ends at its next request", async () => {
    const { createToken, revokeToken } = await import('../../src/services/tokens.js');
    const op = { id: 'cli:test-setup', roles: ['operator'] as const, mailboxes: 'all' as const };
    const { token } = await createToken(h.app, op, { name: 'short-lived', roles: ['reviewer'], mailboxes: 'all' as const });
    const { page } = await h.newPage(token);
    expect(new URL(page.url()).pathname).toBe('/queue');
    await revokeToken(h.app, op, 'short-lived');
    await page.goto(`${h.url}queue`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});
