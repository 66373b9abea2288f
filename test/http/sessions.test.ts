/**
 * `serve --http` sessions: both transports list and call tools; a session id is bound to the token that
 * opened it; DELETE ends a session; SIGTERM shuts the process down cleanly with sessions open.
 */
import { describe, expect, it } from 'vitest';
import { ok, waitFor } from '../e2e/harness.js';
import { connect, INIT, mcpHeaders, raw, startHttpServer, useHttpServer } from './harness.js';

const f = useHttpServer('sessions', { 'alice-agent': 'agent', 'mallory-agent': 'agent' });
const alice = () => f.tokens['alice-agent']!;
const mallory = () => f.tokens['mallory-agent']!;

const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });

async function openStreamable(token: string): Promise<string> {
  const r = await raw(f.server.port, { headers: mcpHeaders(token), body: INIT });
  expect(r.status).toBe(200);
  const sid = String(r.headers['mcp-session-id']);
  const note = await raw(f.server.port, {
    headers: mcpHeaders(token, { 'Mcp-Session-Id': sid }),
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  expect(note.status).toBe(202);
  return sid;
}

describe.each(['streamable', 'sse'] as const)('%s transport', (kind) => {
  it('lists and calls tools', async () => {
    const s = await connect(kind, f.server.url, alice(), `client-${kind}`);
    try {
      expect(await s.tools()).toEqual(expect.arrayContaining(['send_email', 'mail_wait', 'get_message']));
      const held = ok<{ message_id: string; status: string }>(
        await s.call('send_email', {
          mailbox: 'agent@mailgate.test',
          to: 'you@mailgate.test',
          subject: `Over ${kind}`,
          text: 'hello',
        }),
      );
      expect(held.status).toBe('pending');
      expect(ok<{ status: string }>(await s.call('get_message', { message_id: held.message_id })).status).toBe('pending');
    } finally {
      await s.close();
    }
  });
});

describe('a session belongs to the token that opened it', () => {
  it('Streamable HTTP: the same session id with another token is refused, with the owner still served', async () => {
    const sid = await openStreamable(alice());
    const stolen = await raw(f.server.port, { headers: mcpHeaders(mallory(), { 'Mcp-Session-Id': sid }), body: LIST });
    expect(stolen.status).toBe(403);
    expect(stolen.body).not.toMatch(/send_email/);
    const get = await raw(f.server.port, { method: 'GET', headers: { ...mcpHeaders(mallory()), 'Mcp-Session-Id': sid } });
    expect(get.status).toBe(403);
    const del = await raw(f.server.port, { method: 'DELETE', headers: { ...mcpHeaders(mallory()), 'Mcp-Session-Id': sid } });
    expect(del.status).toBe(403);
    const own = await raw(f.server.port, { headers: mcpHeaders(alice(), { 'Mcp-Session-Id': sid }), body: LIST });
    expect(own.status).toBe(200);
    expect(own.body).toMatch(/send_email/);
    expect(f.server.stderr()).toMatch(/session id presented with another token/);
  });

  it("SSE: posting to another token's session is refused", async () => {
    const s = await connect('sse', f.server.url, alice());
    try {
      const endpoint = /sessionId=([\w-]+)/.exec(String((s.client.transport as unknown as { _endpoint?: URL })._endpoint))?.[1];
      expect(endpoint).toBeTruthy();
      const stolen = await raw(f.server.port, { path: `/messages?sessionId=${endpoint}`, headers: mcpHeaders(mallory()), body: LIST });
      expect(stolen.status).toBe(403);
      expect(await s.tools()).toContain('send_email'); // the owner's session is unharmed
    } finally {
      await s.close();
    }
  });

  it('an unknown session id gets 404', async () => {
    const r = await raw(f.server.port, { headers: mcpHeaders(alice(), { 'Mcp-Session-Id': '00000000-0000-4000-8000-000000000000' }), body: LIST });
    expect(r.status).toBe(404);
    const sse = await raw(f.server.port, { path: '/messages?sessionId=nope', headers: mcpHeaders(alice()), body: LIST });
    expect(sse.status).toBe(404);
  });

  it('a session id of one transport is not accepted by the other', async () => {
    const sid = await openStreamable(alice());
    expect((await raw(f.server.port, { path: `/messages?sessionId=${sid}`, headers: mcpHeaders(alice()), body: LIST })).status).toBe(400);
  });

  it('DELETE ends the session; the id is then unknown', async () => {
    const sid = await openStreamable(alice());
    const del = await raw(f.server.port, { method: 'DELETE', headers: { ...mcpHeaders(alice()), 'Mcp-Session-Id': sid } });
    expect(del.status).toBe(200);
    expect((await raw(f.server.port, { headers: mcpHeaders(alice(), { 'Mcp-Session-Id': sid }), body: LIST })).status).toBe(404);
  });
});

describe('shutdown', () => {
  it('SIGTERM with open Streamable HTTP and SSE sessions exits 0', async () => {
    const other = await startHttpServer({ db: f.db, home: f.home });
    const a = await connect('streamable', other.url, alice());
    const b = await connect('sse', other.url, alice());
    expect(await a.tools()).toContain('send_email');
    expect(await b.tools()).toContain('send_email');
    expect(await other.stop('SIGTERM')).toBe(0);
    const shutdown = other
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'mailgate shutting down');
    expect(shutdown).toMatchObject({ why: 'SIGTERM', sessions: 2 });
    await a.client.close().catch(() => undefined);
    await b.client.close().catch(() => undefined);
  });
});

describe('abandoned sessions do not pile up', () => {
  it('a Streamable HTTP session unused for MAILGATE_HTTP_SESSION_IDLE_MS is closed; its id then gets 404', async () => {
    const server = await startHttpServer({ db: f.db, home: f.home, env: { MAILGATE_HTTP_SESSION_IDLE_MS: '600' } });
    const r = await raw(server.port, { headers: mcpHeaders(alice()), body: INIT });
    const sid = String(r.headers['mcp-session-id']);
    expect((await raw(server.port, { headers: mcpHeaders(alice(), { 'Mcp-Session-Id': sid }), body: LIST })).status).toBe(200);
    // The sweeper logs each idle session it closes: wait for that line rather than a fixed time.
    await waitFor(() => /mcp session idle: closed/.test(server.stderr()), 10_000, 'the idle session to be closed');
    expect((await raw(server.port, { headers: mcpHeaders(alice(), { 'Mcp-Session-Id': sid }), body: LIST })).status).toBe(404);
    await server.stop();
  });

  it("one token opening more than MAILGATE_HTTP_SESSIONS_PER_TOKEN closes its least recently used, not other tokens'", async () => {
    const server = await startHttpServer({ db: f.db, home: f.home, env: { MAILGATE_HTTP_SESSIONS_PER_TOKEN: '2' } });
    const open = async (token: string) => String((await raw(server.port, { headers: mcpHeaders(token), body: INIT })).headers['mcp-session-id']);
    const status = async (token: string, sid: string) => (await raw(server.port, { headers: mcpHeaders(token, { 'Mcp-Session-Id': sid }), body: LIST })).status;
    const other = await open(mallory());
    const first = await open(alice());
    const second = await open(alice());
    const third = await open(alice());
    expect(await status(alice(), first)).toBe(404);
    expect(await status(alice(), second)).toBe(200);
    expect(await status(alice(), third)).toBe(200);
    expect(await status(mallory(), other)).toBe(200);
    await server.stop();
  });
});
