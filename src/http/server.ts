/**
 * The HTTP front of `mailgate serve --http`: every request passes the Host/Origin guard; /mcp, /sse and
 * /messages need a bearer token and go to the MCP sessions; anything else goes to the fallback (the review
 * dashboard, when there is one) and is 404 if the fallback does not take it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MailgateError, toMailgateError } from '../errors.js';
import { log } from '../log.js';
import type { AppContext } from '../services/context.js';
import { resolveToken, type TokenPrincipal } from '../services/tokens.js';
import { allowedFor, bearerOf, hostPort, refuseHostOrOrigin, sendJson, sendRpcError } from './guards.js';
import type { McpSessions } from './mcp-transports.js';

/** Another handler on the same port (the dashboard): true if it answered the request. */
type Fallback = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface HttpServerOptions {
  host: string;
  port: number;
  /** More Host names to answer (e.g. a LAN name when bound to 0.0.0.0); `name` or `name:port`. */
  allowHosts?: readonly string[];
  /** More browser origins to accept (`https://app.example`); this server's own origin is always allowed. */
  allowOrigins?: readonly string[];
  fallback?: Fallback | undefined;
}

export interface RunningHttpServer {
  port: number;
  /** The base URL, e.g. http://127.0.0.1:7464 */
  url: string;
  close(): Promise<void>;
}

const REALM = 'Bearer realm="mailgate"';

export async function startHttpServer(ctx: AppContext, sessions: McpSessions, opts: HttpServerOptions): Promise<RunningHttpServer> {
  let allowed = allowedFor(opts.host, opts.port, opts.allowHosts, opts.allowOrigins);
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      log('error', 'http request failed', { path: req.url?.split('?')[0], error: err instanceof Error ? err.stack : String(err) });
      sendRpcError(res, 500, 'internal error; the details are in the server log', {}, -32603);
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refuseHostOrOrigin(req, allowed);
    if (refused) {
      log('warn', 'http request refused', { reason: refused });
      return sendJson(res, 403, { error: 'forbidden', message: refused });
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const endpoint = ENDPOINTS[path];
    if (!endpoint) {
      if (opts.fallback && (await opts.fallback(req, res))) return;
      return sendJson(res, 404, { error: 'not_found', message: `nothing at ${path}; MCP is at /mcp (Streamable HTTP) and /sse (legacy SSE)` });
    }
    if (!endpoint.methods.includes(req.method ?? '')) {
      return sendJson(
        res,
        405,
        { error: 'method_not_allowed', message: `${path} takes ${endpoint.methods.join(', ')}` },
        { Allow: endpoint.methods.join(', ') },
      );
    }
    const who = await authenticate(req, res);
    if (who) await endpoint.handle(sessions, req, res, who);
  }

  async function authenticate(req: IncomingMessage, res: ServerResponse): Promise<TokenPrincipal | undefined> {
    const token = bearerOf(req);
    const create = "a person creates one with 'mailgate token create --role agent --name NAME'";
    if (!token) {
      sendRpcError(res, 401, `missing 'Authorization: Bearer <token>'; ${create}`, { 'WWW-Authenticate': REALM });
      return undefined;
    }
    try {
      return await resolveToken(ctx, token, 'the bearer token');
    } catch (err) {
      if (toMailgateError(err).code !== 'UNAUTHENTICATED') throw err;
      log('warn', 'http request with an unknown or revoked token', { reason: (err as Error).message });
      sendRpcError(res, 401, `the bearer token is unknown or revoked; ${create}`, {
        'WWW-Authenticate': `${REALM}, error="invalid_token", error_description="unknown or revoked token"`,
      });
      return undefined;
    }
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        err.code === 'EADDRINUSE' || err.code === 'EADDRNOTAVAIL' || err.code === 'EACCES'
          ? new MailgateError('INVALID_INPUT', `cannot listen on ${hostPort(opts.host, opts.port)} (${err.code}); choose another --port or --host`, {
              field: '--port',
            })
          : err,
      );
    });
    server.listen(opts.port, opts.host, () => resolve((server.address() as AddressInfo).port));
  });
  // With --port 0 the real port is known only now, and the Host/Origin allow-list depends on it.
  allowed = allowedFor(opts.host, port, opts.allowHosts, opts.allowOrigins);
  const shown = opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
  return { port, url: `http://${hostPort(shown, port)}`, close: () => closeServer(server, sessions) };
}

interface Endpoint {
  methods: string[];
  handle(s: McpSessions, req: IncomingMessage, res: ServerResponse, who: TokenPrincipal): Promise<void>;
}

const ENDPOINTS: Record<string, Endpoint> = {
  '/mcp': { methods: ['POST', 'GET', 'DELETE'], handle: (s, req, res, who) => s.streamable(req, res, who) },
  '/sse': { methods: ['GET'], handle: (s, req, res, who) => s.sseOpen(req, res, who) },
  '/messages': { methods: ['POST'], handle: (s, req, res, who) => s.sseMessage(req, res, who) },
};

async function closeServer(server: Server, sessions: McpSessions): Promise<void> {
  await sessions.closeAll();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections(); // SSE streams never end on their own
  await closed;
}
