/** `serve --http`: bearer tokens decide who may connect and which tools each session has, as on stdio. */
import { describe, expect, it } from 'vitest';
import { ok, runCli, textOf } from '../e2e/harness.js';
import { connect, createToken, INIT, mcpHeaders, raw, useHttpServer } from './harness.js';

const f = useHttpServer('auth', { 'http-agent': 'agent', 'http-reviewer': 'reviewer' });

const REVIEW_AND_OPERATOR_ONLY = ['decide_email', 'queue_approve', 'queue_reject', 'get_audit', 'list_mailboxes', 'create_mailbox', 'update_mailbox'];
const SEND_TOOLS = ['send_email', 'reply_email', 'cancel_message'];

describe('authentication', () => {
  it.each([
    ['no Authorization header', {}],
    ['an unknown token', { Authorization: 'Bearer mgt_notARealTokenAtAll000000000000000000000' }],
    ['a non-bearer scheme', { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
  ])('refuses %s with 401, WWW-Authenticate: Bearer and a JSON error', async (_what, headers) => {
    for (const [method, path] of [
      ['POST', '/mcp'],
      ['GET', '/sse'],
      ['POST', '/messages?sessionId=x'],
    ] as const) {
      const r = await raw(f.server.port, { method, path, headers: { ...mcpHeaders(), ...headers }, body: method === 'POST' ? INIT : undefined });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(String(r.headers['www-authenticate'])).toMatch(/^Bearer realm="mailgate"/);
      expect(r.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(r.body).error.message).toMatch(/token/);
    }
  });

  it('never echoes the presented token', async () => {
    const secret = 'mgt_leakCheckLeakCheckLeakCheckLeakCheck00';
    const r = await raw(f.server.port, { headers: mcpHeaders(secret), body: INIT });
    expect(r.status).toBe(401);
    expect(r.body).not.toContain(secret);
    expect(f.server.stderr()).not.toContain(secret);
  });

  it('refuses a revoked token at the next request of an open session', async () => {
    const token = await createToken(f.db, f.home, 'soon-revoked', 'agent');
    const s = await connect('streamable', f.server.url, token);
    expect(await s.tools()).toContain('send_email');
    expect((await runCli(['token', 'revoke', 'soon-revoked', '--db', f.db], { home: f.home })).code).toBe(0);
    await expect(s.tools()).rejects.toThrow(/401|unknown or revoked/);
    await s.client.close();
  });
});

describe('roles over HTTP', () => {
  it('an agent token lists no review or operator tool, and calling one by name is refused', async () => {
    const s = await connect('streamable', f.server.url, f.tokens['http-agent']!);
    try {
      const names = await s.tools();
      expect(names).toContain('send_email');
      for (const t of REVIEW_AND_OPERATOR_ONLY) expect(names).not.toContain(t);
      const held = ok<{ message_id: string; status: string }>(
        await s.call('send_email', {
          mailbox: 'agent@mailgate.test',
          to: 'you@mailgate.test',
          subject: 'Role check',
          text: 'hi',
        }),
      );
      expect(held.status).toBe('pending');
      for (const name of ['queue_approve', 'decide_email']) {
        const r = await s.call(name, { message_id: held.message_id, ...(name === 'decide_email' ? { action: 'approve' } : {}) });
        expect(r.isError, name).toBe(true);
        expect(textOf(r)).toMatch(new RegExp(`${name}.*not found|not found.*${name}`, 'i'));
      }
      expect(ok<{ status: string }>(await s.call('get_message', { message_id: held.message_id })).status).toBe('pending');
    } finally {
      await s.close();
    }
  });

  it('a reviewer token lists no send tool, and calling one is refused', async () => {
    const s = await connect('sse', f.server.url, f.tokens['http-reviewer']!);
    try {
      const names = await s.tools();
      expect(names).toContain('queue_approve');
      for (const t of SEND_TOOLS) expect(names).not.toContain(t);
      const r = await s.call('send_email', { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'x', text: 'y' });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/send_email/);
    } finally {
      await s.close();
    }
  });

  it('audits the session as token:NAME/CLIENT', async () => {
    const s = await connect('streamable', f.server.url, f.tokens['http-agent']!, 'audit-client');
    const held = ok<{ message_id: string }>(
      await s.call('send_email', { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'Who', text: 'me' }),
    );
    await s.close();
    const r = await runCli(['audit', '--message', held.message_id, '--json', '--db', f.db], { home: f.home });
    const events = (JSON.parse(r.stdout) as { events: { action: string; actor: string }[] }).events;
    expect(events.length).toBeGreaterThan(0);
    expect(events.map((e) => e.actor)).toContain('token:http-agent/audit-client');
  });
});
