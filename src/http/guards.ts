/**
 * The checks every HTTP request passes before it reaches MCP or the dashboard: Host and Origin (DNS-rebinding
 * protection, MCP spec 2025-11-25 basic/transports: "Servers MUST validate the Origin header"), the bearer
 * token (RFC 6750), and a body size cap enforced while the body streams in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

/**
 * The body cap for POSTs to /mcp and /messages: send_email accepts up to 48 MiB of base64 attachments in one
 * request (tools/inputs.ts MAX_ATTACHMENT_BASE64), plus the JSON-RPC envelope and the text of the mail.
 */
const MAX_BODY_BYTES = 50 * 1024 * 1024;

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `host:port` as it appears in a Host header (IPv6 in brackets). */
export function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

export interface Allowed {
  /** Host header values (`name:port`, lower case) this server answers. */
  hosts: Set<string>;
  /** Origin values (`scheme://name:port`, lower case) a browser request may come from. */
  origins: Set<string>;
}

/**
 * Loopback names on the bound port always; the bound address itself when it is a specific one (not 0.0.0.0
 * or ::); plus whatever the operator names. Origins: this server's own (the dashboard's pages) and the extras.
 */
export function allowedFor(bound: string, port: number, extraHosts: readonly string[] = [], extraOrigins: readonly string[] = []): Allowed {
  const hosts = new Set(LOOPBACK_NAMES.map((h) => `${h}:${port}`));
  if (bound !== '0.0.0.0' && bound !== '::') hosts.add(hostPort(bound, port).toLowerCase());
  for (const h of extraHosts) hosts.add((h.includes(':') && !h.endsWith(']') ? h : `${h}:${port}`).toLowerCase());
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  for (const o of extraOrigins) origins.add(o.replace(/\/+$/, '').toLowerCase());
  return { hosts, origins };
}

/** Why a request must be refused with 403 before anything else looks at it, or undefined if it may pass. */
export function refuseHostOrOrigin(req: IncomingMessage, allowed: Allowed): string | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!allowed.hosts.has(host)) return `Host '${host}' is not served here; use ${[...allowed.hosts][0]}`;
  const origin = req.headers.origin;
  if (origin !== undefined && !allowed.origins.has(origin.toLowerCase())) {
    return `Origin '${origin}' is not allowed; start the server with --allow-origin ${origin} if it should be`;
  }
  return undefined;
}

/** The token of an `Authorization: Bearer ...` header (RFC 6750 §2.1), or undefined. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  return m?.[1];
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** A JSON-RPC error response with no id: what MCP clients expect from a refused HTTP request. */
export function sendRpcError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}, code = -32000): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

export type BodyResult = { ok: true; value: unknown } | { ok: false; status: 400 | 413; message: string };

/**
 * The JSON body, read with a cap: a declared Content-Length over it is refused before reading, and a
 * chunked body is cut off as soon as it passes it (the connection is closed after the 413).
 */
export function readJsonBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<BodyResult> {
  const tooLarge = { ok: false, status: 413, message: `request body is larger than ${maxBytes} bytes` } as const;
  if (Number(req.headers['content-length'] ?? 0) > maxBytes) return Promise.resolve(tooLarge);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Stop buffering; the caller answers 413 and closes the connection (closeAfter).
      req.off('data', onData).off('end', onEnd).pause();
      resolve(tooLarge);
    };
    const onEnd = () => {
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        resolve({ ok: false, status: 400, message: 'request body is not valid JSON' });
      }
    };
    req.on('data', onData).on('end', onEnd).once('error', reject);
  });
}

/** How long a refused request's remaining body is read and thrown away before the connection is dropped. */
const LINGER_MS = 2000;

/**
 * Ends the connection once the response is out: for a request whose body was not read to the end. A lingering
 * close, as nginx and Apache do: destroying the socket with the client's bytes still unread makes the kernel
 * answer with a reset, which can reach the client before the 413 it is owed (it then sees only ECONNRESET). So
 * the server half-closes, discards (never buffers) what still arrives for a moment, then drops the connection.
 */
export function closeAfter(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader('Connection', 'close');
  res.once('finish', () => {
    const timer = setTimeout(() => req.destroy(), LINGER_MS).unref();
    req.socket.once('close', () => clearTimeout(timer));
    req.socket.end();
    req.resume();
  });
}
