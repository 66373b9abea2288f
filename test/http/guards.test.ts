/** `serve --http`: DNS-rebinding protection (Host, Origin), the body cap, routing and the loopback default. */
import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { runCli } from '../e2e/harness.js';
import { createToken, INIT, mcpHeaders, raw, useHttpServer } from './harness.js';

const f = useHttpServer('guards', { 'guards-agent': 'agent' }, ['--allow-origin', 'https://app.example']);
const MB = 1024 * 1024;

const init = (extra: Record<string, string> = {}) => raw(f.server.port, { headers: mcpHeaders(f.tokens['guards-agent'], extra), body: INIT });

describe('Host and Origin (DNS rebinding)', () => {
  it('serves the loopback names on the bound port', async () => {
    for (const host of [`127.0.0.1:${f.server.port}`, `localhost:${f.server.port}`, `[::1]:${f.server.port}`]) {
      const r = await init({ Host: host });
      expect(r.status, host).toBe(200);
      expect(r.headers['mcp-session-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it.each([['evil.example.com'], ['127.0.0.1'], ['127.0.0.1:1'], ['attacker.test:80']])('refuses Host %s with 403 before authenticating', async (host) => {
    const r = await raw(f.server.port, { headers: mcpHeaders(undefined, { Host: host }), body: INIT });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body).message).toMatch(/Host/);
  });

  it('refuses a foreign Origin with 403, even with a good token', async () => {
    for (const origin of ['http://evil.example.com', `http://localhost.evil.test:${f.server.port}`, 'null']) {
      const r = await init({ Origin: origin });
      expect(r.status, origin).toBe(403);
      expect(JSON.parse(r.body).message).toMatch(/Origin/);
    }
    const sse = await raw(f.server.port, {
      method: 'GET',
      path: '/sse',
      headers: { Authorization: `Bearer ${f.tokens['guards-agent']}`, Origin: 'http://evil.example.com' },
    });
    expect(sse.status).toBe(403);
  });

  it('accepts its own origin and the --allow-origin ones', async () => {
    for (const origin of [`http://127.0.0.1:${f.server.port}`, `http://localhost:${f.server.port}`, 'https://app.example']) {
      expect((await init({ Origin: origin })).status, origin).toBe(200);
    }
  });
});

describe('body cap (50 MiB)', () => {
  it('refuses a declared Content-Length over the cap with 413 without reading it', async () => {
    const r = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: f.server.port,
          method: 'POST',
          path: '/mcp',
          headers: { ...mcpHeaders(f.tokens['guards-agent']), 'Content-Length': String(51 * MB) },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      req.write('{"jsonrpc":"2.0"'); // the rest never comes
    });
    expect(r).toBe(413);
  });

  it('cuts off a chunked body once it passes the cap, with 413', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: f.server.port,
          method: 'POST',
          path: '/mcp',
          headers: { ...mcpHeaders(f.tokens['guards-agent']), 'Transfer-Encoding': 'chunked' },
        },
        (res) => resolve(res.statusCode ?? 0),
      );
      req.on('error', reject);
      const chunk = Buffer.alloc(MB, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 60) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('accepts a large body under the cap (an attachment-sized request)', async () => {
    const big = JSON.stringify({ ...JSON.parse(INIT), params: { ...JSON.parse(INIT).params, padding: 'x'.repeat(5 * MB) } });
    expect((await raw(f.server.port, { headers: mcpHeaders(f.tokens['guards-agent']), body: big })).status).toBe(200);
  });

  it('answers malformed JSON with 400 and a JSON-RPC parse error', async () => {
    const r = await raw(f.server.port, { headers: mcpHeaders(f.tokens['guards-agent']), body: '{not json' });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.code).toBe(-32700);
  });
});

describe('the review dashboard on the same port', () => {
  it('serves its sign-in page and signs a reviewer token in, beside the MCP endpoints', async () => {
    const reviewer = await createToken(f.db, f.home, 'guards-reviewer', 'reviewer');
    const page = await raw(f.server.port, { method: 'GET', path: '/login' });
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    const signIn = await raw(f.server.port, {
      path: '/login',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: `http://127.0.0.1:${f.server.port}` },
      body: new URLSearchParams({ token: reviewer }).toString(),
    });
    expect(signIn.status).toBeGreaterThanOrEqual(300);
    expect(signIn.status).toBeLessThan(400);
    expect(signIn.headers.location).toMatch(/\/queue$/);
    expect(String(signIn.headers['set-cookie'])).toMatch(/HttpOnly/i);
  });

  it('is behind the same Host and Origin guard', async () => {
    expect((await raw(f.server.port, { method: 'GET', path: '/login', headers: { Host: 'evil.example.com' } })).status).toBe(403);
    const cross = await raw(f.server.port, {
      path: '/login',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://evil.example.com' },
      body: 'token=x',
    });
    expect(cross.status).toBe(403);
  });
});

describe('routing', () => {
  it('404s paths neither MCP nor the dashboard serve, and 405s wrong methods', async () => {
    const r404 = await raw(f.server.port, { method: 'GET', path: '/nope' });
    expect(r404.status).toBe(404);
    expect(JSON.parse(r404.body).message).toMatch(/MCP is at \/mcp/);
    const r = await raw(f.server.port, { method: 'PUT', path: '/mcp', headers: mcpHeaders(f.tokens['guards-agent']) });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('POST, GET, DELETE');
  });

  it('answers a request without a session id that is not initialize with 400', async () => {
    const r = await raw(f.server.port, {
      headers: mcpHeaders(f.tokens['guards-agent']),
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(r.status).toBe(400);
  });

  it('refuses --role with --http, and a bad --port, before serving', async () => {
    const role = await runCli(['serve', '--http', '--role', 'agent', '--port', '0', '--db', f.db], { home: f.home });
    expect(role.code).toBe(2);
    expect(role.stderr).toMatch(/--role is for stdio/);
    const port = await runCli(['serve', '--http', '--port', 'http', '--db', f.db], { home: f.home });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/--port: 'http' is not a port/);
    const busy = await runCli(['serve', '--http', '--port', String(f.server.port), '--db', f.db], { home: f.home });
    expect(busy.code).toBe(2);
    expect(busy.stderr).toMatch(/EADDRINUSE/);
  });

  it('binds 127.0.0.1 by default and logs the address on stderr only', () => {
    expect(f.server.url).toBe(`http://127.0.0.1:${f.server.port}`);
    expect(f.server.stderr()).toMatch(/"msg":"mailgate serving MCP over HTTP"/);
  });
});
