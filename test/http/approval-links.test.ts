/**
 * One-time approval links under `serve --http`: mounted on the HTTP server's own port at /approve/..., behind
 * its Host/Origin guard, with the link's own checks (Host, Origin, Sec-Fetch-Site, CSRF, single use) intact.
 * The test is the person: it gets the link through the client's URL elicitation, opens it and presses Approve.
 */
import { describe, expect, it } from 'vitest';
import { nextApprovalLink, ok, openApprovalPage, runCli } from '../e2e/harness.js';
import { connect, raw, useHttpServer } from './harness.js';

// An extra allowed origin passes the server's guard, so the link's own Origin check is what refuses it.
const f = useHttpServer('links', { desk: 'agent,reviewer' }, ['--allow-origin', 'https://app.example']);

const post = (url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body: new URLSearchParams(body), headers, redirect: 'manual' });

interface Event {
  action: string;
  actor: string;
  message_id: string | null;
  detail: Record<string, unknown>;
}
async function events(id: string): Promise<Event[]> {
  const r = await runCli(['audit', '--json', '--limit', '100000', '--db', f.db], { home: f.home });
  return (JSON.parse(r.stdout) as { events: Event[] }).events.filter((e) => e.message_id === id);
}

describe('approval links over serve --http', { timeout: 60_000 }, () => {
  it("are served on the HTTP server's port; GET shows, only a same-origin POST with the token approves, once", async () => {
    const s = await connect('streamable', f.server.url, f.tokens.desk!, 'links-client', { elicitation: { url: {} } });
    const url = nextApprovalLink(s.client);
    const sent = ok(await s.call('send_email', { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'Over HTTP <b>bold</b>', text: 'Hello' }));
    expect(sent.status).toBe('pending');
    const id = sent.message_id as string;
    const call = s.call('queue_approve', { message_id: id });
    const link = await url;
    expect(link).toMatch(new RegExp(`^${f.server.url.replace(/\./g, '\\.')}/approve/[A-Za-z0-9]{40}$`));
    const status = async () => ok(await s.call('get_message', { message_id: id })).status;

    const { html, csrf } = await openApprovalPage(link);
    expect(html).toContain('Over HTTP &lt;b&gt;bold&lt;/b&gt;');
    expect(await status()).toBe('pending');

    const path = new URL(link).pathname;
    // Refused by the server's guard (403 JSON), then by the link's own checks (403 page, 421 for another Host).
    expect((await post(link, { csrf }, { origin: 'http://evil.example' })).status).toBe(403);
    for (const origin of ['https://app.example', `http://localhost:${f.server.port}`]) {
      const r = await post(link, { csrf }, { origin });
      expect([origin, r.status, await r.text()]).toEqual([origin, 403, expect.stringContaining('only accepted from the approval page')]);
    }
    expect((await post(link, { csrf }, { 'sec-fetch-site': 'same-site' })).status).toBe(403);
    expect((await post(link, { csrf: '0'.repeat(64) })).status).toBe(403);
    expect((await raw(f.server.port, { method: 'GET', path, headers: { host: `localhost:${f.server.port}` } })).status).toBe(421);
    expect((await fetch(`${f.server.url}/approve/${'A'.repeat(40)}`)).status).toBe(404);
    expect(await status()).toBe('pending');

    const approved = await post(link, { csrf }, { origin: f.server.url, 'sec-fetch-site': 'same-origin' });
    expect(approved.status).toBe(200);
    expect(await approved.text()).toContain('is approved');
    expect(ok(await call).status).toBe('sent');
    const again = await post(link, { csrf }, { origin: f.server.url });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already used');

    const approvals = (await events(id)).filter((e) => e.action === 'message.approved');
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ actor: 'token:desk/links-client', detail: { confirmation: 'elicitation_url' } });
    await s.close();
  });

  it('leave the dashboard and the MCP endpoints where they were', async () => {
    const login = await fetch(`${f.server.url}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain('Sign in to review mail');
    expect((await fetch(`${f.server.url}/queue`, { redirect: 'manual' })).status).toBe(303);
    expect((await raw(f.server.port, { path: '/mcp', body: '{}' })).status).toBe(401);
  });
});
