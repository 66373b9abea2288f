/**
 * MCP over HTTP: Streamable HTTP at /mcp (stateful, spec 2025-11-25 basic/transports) and the deprecated
 * HTTP+SSE transport at /sse + /messages (spec 2024-11-05) for older clients. Each session gets its own
 * McpServer built for the token that opened it, exactly as a stdio session with that token, and stays bound
 * to that token: a request carrying the session id with any other token is refused, never served.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { canDraftAndDecide } from '../auth/principal.js';
import { log } from '../log.js';
import { createMcpServer } from '../mcp/server.js';
import type { LinkIssuer } from '../services/confirm.js';
import type { AppContext } from '../services/context.js';
import { listMailboxes } from '../services/mailboxes.js';
import type { TokenPrincipal } from '../services/tokens.js';
import { closeAfter, readJsonBody, sendRpcError } from './guards.js';

type Transport = StreamableHTTPServerTransport | SSEServerTransport;

interface Session {
  principal: TokenPrincipal;
  server: McpServer;
  transport: Transport;
  /** The last request that used the session (ms): idle sessions are closed, so abandoned ones do not pile up. */
  lastSeen: number;
}

/** A client that vanished without DELETE leaves its session behind; after this long unused it is closed. */
const DEFAULT_IDLE_MS = 60 * 60 * 1000;
/** Per token: opening one more closes that token's least recently used session (a looping client cannot grow memory). */
const DEFAULT_MAX_PER_TOKEN = 50;

export interface SessionOptions {
  /** One-time approval links, offered only to sessions whose token holds both agent and reviewer/operator. */
  links?: LinkIssuer | undefined;
  approveCommand?: ((messageId: string) => string) | undefined;
  cliFlags?: readonly string[] | undefined;
  maxBodyBytes?: number | undefined;
  idleMs?: number | undefined;
  maxSessionsPerToken?: number | undefined;
}

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly ctx: AppContext,
    private readonly opts: SessionOptions = {},
  ) {
    const idle = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.sweeper = setInterval(() => this.sweep(idle), Math.min(60_000, Math.max(250, idle / 4)));
    this.sweeper.unref();
  }

  /**
   * Closes Streamable HTTP sessions unused for `idleMs`. Legacy SSE sessions are left alone: each lives exactly
   * as long as its event stream, and is forgotten when the stream closes (sseOpen's onclose).
   */
  private sweep(idleMs: number): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) {
      if (s.transport instanceof StreamableHTTPServerTransport && now - s.lastSeen > idleMs) {
        log('info', 'mcp session idle: closed', { principal: `token:${s.principal.name}`, idle_ms: now - s.lastSeen });
        this.forget(id);
      }
    }
  }

  /** Keeps a token under its session cap by closing its least recently used session. */
  private makeRoom(who: TokenPrincipal): void {
    const max = this.opts.maxSessionsPerToken ?? DEFAULT_MAX_PER_TOKEN;
    const mine = [...this.sessions].filter(([, s]) => s.principal.token_id === who.token_id).sort(([, a], [, b]) => a.lastSeen - b.lastSeen);
    for (const [id] of mine.slice(0, Math.max(0, mine.length - max + 1))) {
      log('info', 'mcp session cap reached: closed the least recently used', { principal: `token:${who.name}`, max });
      this.forget(id);
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  /** POST, GET and DELETE on /mcp. */
  async streamable(req: IncomingMessage, res: ServerResponse, who: TokenPrincipal): Promise<void> {
    const id = req.headers['mcp-session-id'];
    if (typeof id === 'string') {
      const s = this.owned(id, who, StreamableHTTPServerTransport, res);
      if (!s) return;
      const body = req.method === 'POST' ? await this.body(req, res) : { value: undefined };
      if (!body) return;
      return s.transport.handleRequest(req, res, body.value);
    }
    if (req.method !== 'POST') return sendRpcError(res, 400, 'Bad Request: no Mcp-Session-Id header; start a session with an initialize POST');
    const body = await this.body(req, res);
    if (!body) return;
    if (!isInitializeRequest(body.value)) return sendRpcError(res, 400, 'Bad Request: no Mcp-Session-Id header; start a session with an initialize POST');
    let session: Session | undefined;
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      onsessioninitialized: (sid) => void this.sessions.set(sid, session!),
      onsessionclosed: (sid) => this.forget(sid),
    });
    transport.onclose = () => transport.sessionId && this.forget(transport.sessionId);
    session = await this.open(who, transport);
    await transport.handleRequest(req, res, body.value);
  }

  /** GET /sse: opens a legacy session; its endpoint event names /messages?sessionId=... */
  async sseOpen(_req: IncomingMessage, res: ServerResponse, who: TokenPrincipal): Promise<void> {
    const transport = new SSEServerTransport('/messages', res);
    transport.onclose = () => this.forget(transport.sessionId);
    this.sessions.set(transport.sessionId, await this.open(who, transport));
  }

  /** POST /messages?sessionId=...: one JSON-RPC message for a legacy session. */
  async sseMessage(req: IncomingMessage, res: ServerResponse, who: TokenPrincipal): Promise<void> {
    const id = new URL(req.url ?? '/', 'http://localhost').searchParams.get('sessionId') ?? '';
    const s = this.owned(id, who, SSEServerTransport, res);
    if (!s) return;
    const body = await this.body(req, res);
    if (!body) return;
    await s.transport.handlePostMessage(req, res, body.value);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.server.close().catch(() => undefined)));
  }

  private async open(who: TokenPrincipal, transport: Transport): Promise<Session> {
    this.makeRoom(who);
    const server = createMcpServer(this.ctx, {
      roles: who.roles,
      scope: who.mailboxes,
      token: { id: who.token_id, name: who.name },
      links: canDraftAndDecide(who.roles) ? this.opts.links : undefined,
      approveCommand: this.opts.approveCommand,
      cliFlags: this.opts.cliFlags,
      mailboxes: await listMailboxes(this.ctx, { id: `token:${who.name}`, roles: who.roles, mailboxes: who.mailboxes }),
    });
    await server.connect(transport);
    log('info', 'mcp session opened', {
      transport: transport instanceof SSEServerTransport ? 'sse' : 'streamable-http',
      principal: `token:${who.name}`,
      roles: who.roles,
    });
    return { principal: who, server, transport, lastSeen: Date.now() };
  }

  private forget(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    log('info', 'mcp session closed', { principal: `token:${s.principal.name}` });
    void s.server.close().catch(() => undefined);
  }

  /** The session `id` if this token opened it; otherwise answers the request (404 / 403 / 400) and returns undefined. */
  private owned<T extends Transport>(
    id: string,
    who: TokenPrincipal,
    kind: abstract new (...a: never[]) => T,
    res: ServerResponse,
  ): (Session & { transport: T }) | undefined {
    const s = this.sessions.get(id);
    if (!s) {
      sendRpcError(res, 404, 'Session not found; start a new session', {}, -32001);
      return undefined;
    }
    if (s.principal.token_id !== who.token_id) {
      log('warn', 'session id presented with another token: refused', { session_principal: `token:${s.principal.name}`, presented_by: `token:${who.name}` });
      sendRpcError(res, 403, 'This session belongs to another token; open your own session');
      return undefined;
    }
    if (!(s.transport instanceof kind)) {
      sendRpcError(res, 400, 'This session id belongs to the other transport (/mcp vs /sse)');
      return undefined;
    }
    s.lastSeen = Date.now();
    return s as Session & { transport: T };
  }

  /** The parsed JSON body, or undefined after answering 400/413. */
  private async body(req: IncomingMessage, res: ServerResponse): Promise<{ value: unknown } | undefined> {
    const body = await readJsonBody(req, this.opts.maxBodyBytes);
    if (body.ok) return { value: body.value };
    if (body.status === 413) closeAfter(req, res);
    sendRpcError(res, body.status, body.message, {}, body.status === 400 ? -32700 : -32000);
    return undefined;
  }
}
