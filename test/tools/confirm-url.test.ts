/**
 * URL elicitation: the test is the person. It receives the one-time link through the client, opens it (GET
 * shows the message and approves nothing) and presses Approve (POST with the page's CSRF token).
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalLinkServer } from '../../src/http/approval-link.js';
import { openApprovalPage } from '../e2e/harness.js';
import type { SqliteStore } from '../../src/domain/sqlite-store.js';
import { type Harness, ok, startHarness, textOf } from './harness.js';
import { openSession, type Session } from './session.js';

let h: Harness;
let links: ApprovalLinkServer;
let n = 0;

beforeAll(async () => {
  h = await startHarness();
  links = new ApprovalLinkServer(h.app);
});
afterAll(async () => {
  await links?.close();
  await h?.close();
});

/** A combined session whose client offers URL mode; the URL it is asked to open arrives in `url`. */
async function urlSession(action: 'accept' | 'decline' = 'accept') {
  let gotUrl!: (u: string) => void;
  const url = new Promise<string>((r) => (gotUrl = r));
  const s = await openSession(
    h.app,
    { roles: ['agent', 'reviewer'], links },
    {
      capabilities: { elicitation: { form: {}, url: {} } },
      onElicit: (p) => {
        if (p.mode === 'url') gotUrl(p.url);
        return { action };
      },
    },
  );
  return { s, url };
}

async function draft(s: Session, extra: Record<string, unknown> = {}): Promise<string> {
  const r = ok(
    await s.call('send_email', { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: `Link draft ${++n}`, text: `Body ${n}`, ...extra }),
  );
  expect(r.status).toBe('pending');
  return r.message_id as string;
}

const status = async (id: string) => (await h.app.store.getMessage(id))!.status;
const csrfOf = (html: string) => /name="csrf" value="([0-9a-f]{64})"/.exec(html)![1]!;
const post = (url: string, body: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body: new URLSearchParams(body), headers, redirect: 'manual' });

/** A raw request, for headers fetch will not let a caller set (Host). */
function rawGet(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    request({ host: '127.0.0.1', port: u.port, path: u.pathname, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
}

describe('approval through a one-time link', () => {
  it('GET shows the message escaped and approves nothing; POST with the token approves; a second POST is refused', async () => {
    const { s, url } = await urlSession();
    const id = await draft(s, {
      subject: `<script>alert("x")</script> & co ${n + 1}`,
      text: '<img src=x onerror=alert(1)>\nSecond line',
      cc: 'carol@example.com',
      bcc: 'dave@example.com',
    });
    const call = s.call('queue_approve', { message_id: id, note: 'fine by me' });
    const link = await url;
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\/[A-Za-z0-9]{40}$/);

    const { html } = await openApprovalPage(link);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).not.toMatch(/<script|<img/);
    for (const shown of ['agent@mailgate.test', 'you@mailgate.test', 'carol@example.com', 'dave@example.com', id]) expect(html).toContain(shown);
    await fetch(link); // opening it again changes nothing either
    expect(await status(id)).toBe('pending');

    expect((await post(link, {})).status).toBe(403); // no token
    expect((await post(link, { csrf: '0'.repeat(64) })).status).toBe(403); // wrong token
    expect(await status(id)).toBe('pending');

    const approved = await post(link, { csrf: csrfOf(html) }, { origin: new URL(link).origin });
    expect(approved.status).toBe(200);
    expect(await approved.text()).toContain('is approved');
    expect(ok(await call).status).toBe('sent');

    const again = await post(link, { csrf: csrfOf(html) });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already used');

    const ev = await h.app.store.audit({ message_id: id, limit: 100 });
    const requested = ev.find((e) => e.action === 'message.confirmation_requested')!;
    expect(requested.detail).toMatchObject({ path: 'elicitation_url', link_id: expect.stringMatching(/^lnk_/) });
    expect(ev.filter((e) => e.action === 'message.approved')).toHaveLength(1);
    expect(ev.find((e) => e.action === 'message.approved')!).toMatchObject({
      actor: 'mcp:agent+reviewer/test-session',
      detail: { confirmation: 'elicitation_url', reason: 'fine by me' },
    });
    await expect.poll(() => s.completed).toContain(requested.detail.link_id);
    // Only the hash of the link's secret is stored.
    const secret = link.slice(link.lastIndexOf('/') + 1);
    const rows = (h.app.store as SqliteStore).db.prepare('SELECT * FROM approval_links').all();
    expect(JSON.stringify(rows)).not.toContain(secret);
    await s.close();
  });

  it('a link made for content that has since changed is refused, on GET and on POST', async () => {
    const { s, url } = await urlSession();
    const id = await draft(s);
    const call = s.call('queue_approve', { message_id: id });
    const link = await url;
    const csrf = csrfOf(await (await fetch(link)).text());
    // A reviewer approves the message with an edit while the person still has the page open.
    ok(await h.reviewer.call('queue_approve', { message_id: id, edits: { subject: 'Edited by a reviewer' } }));
    const page = await fetch(link);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('changed after this link was made');
    const refused = await post(link, { csrf });
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('changed after this link was made');
    const r = await call;
    expect(textOf(r)).toMatch(/^LINK_INVALID: /);
    const approvals = (await h.app.store.audit({ message_id: id, limit: 100 })).filter((e) => e.action === 'message.approved');
    expect(approvals.map((e) => e.detail.confirmation)).toEqual(['reviewer_session']);
    await s.close();
  });

  it('declining the prompt withdraws the link: nothing is approved and the link no longer works', async () => {
    const { s, url } = await urlSession('decline');
    const id = await draft(s);
    const r = await s.call('queue_approve', { message_id: id });
    expect(textOf(r)).toMatch(/^NOT_CONFIRMED: /);
    const page = await fetch(await url);
    expect(page.status).toBe(410);
    expect(await status(id)).toBe('pending');
    await s.close();
  });

  it('without the link nothing approves: guessed links, other Hosts and cross-site POSTs are refused; the link outlives a cancelled call', async () => {
    const { s, url } = await urlSession();
    const id = await draft(s);
    const abort = new AbortController();
    const call = s.call('queue_approve', { message_id: id }, { signal: abort.signal });
    const link = await url;
    const origin = new URL(link).origin;
    const csrf = csrfOf(await (await fetch(link)).text());
    expect((await fetch(`${origin}/approve/${'A'.repeat(40)}`)).status).toBe(404);
    expect((await post(`${origin}/approve/${'A'.repeat(40)}`, { csrf })).status).toBe(404);
    expect((await fetch(`${origin}/`)).status).toBe(404);
    expect(await rawGet(link, `evil.example:${new URL(link).port}`)).toBe(421);
    expect((await post(link, { csrf }, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await post(link, { csrf }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await fetch(link, { method: 'PUT' })).status).toBe(405);
    expect(await status(id)).toBe('pending');

    abort.abort('the person closed the client');
    await expect(call).rejects.toThrow();
    expect(await status(id)).toBe('pending');
    expect((await post(link, { csrf })).status).toBe(200);
    expect(await status(id)).toBe('sent');
    await s.close();
  });
});
