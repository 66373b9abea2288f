/**
 * The dashboard on its own HTTP server, for a stdio MCP server started with --dashboard (and for tests).
 * It listens only on the loopback address it is given and answers only requests that name it in Host, so a
 * web page whose DNS name is rebound to 127.0.0.1 cannot reach it.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppContext } from '../services/context.js';
import { send } from './http.js';
import { createDashboard, type DashboardOptions } from './index.js';

export interface StandaloneOptions extends DashboardOptions {
  host?: string;
  /** 0 (the default) lets the system pick a free port. */
  port?: number;
  /**
   * Another handler on this port, asked first (after the Host check): the one-time approval links of a stdio
   * server with --dashboard (src/http/approval-link.ts), so they point here instead of opening a port of their own.
   */
  before?: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
}

export async function startDashboardServer(app: AppContext, opts: StandaloneOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const host = opts.host ?? '127.0.0.1';
  const dashboard = createDashboard(app, opts);
  let allowed = new Set<string>();
  const server = createServer((req, res) => {
    if (!allowed.has((req.headers.host ?? '').toLowerCase())) return send(res, 421, 'text/plain; charset=utf-8', 'wrong Host for this server\n');
    const first = opts.before ? opts.before(req, res) : Promise.resolve(false);
    void first
      .then((handled) => handled || dashboard.handle(req, res))
      .then((handled) => {
        if (!handled) send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  allowed = new Set([`${hostPart}:${port}`, ...(host === '127.0.0.1' || host === '::1' ? [`localhost:${port}`] : [])]);
  return {
    url: `http://${hostPart}:${port}/`,
    async close() {
      await dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
