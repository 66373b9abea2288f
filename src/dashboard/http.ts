/**
 * HTTP plumbing for the dashboard: the security headers every response carries, form bodies with a size cap,
 * cookies, and the same-origin check for POSTs.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * Scripts and styles come only from /static (no inline script at all), nothing may frame the dashboard, and
 * forms post only to it. The email's own HTML gets a stricter policy of its own inside its sandboxed iframe.
 */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * `same-origin`, not `no-referrer`: no referrer ever leaves for another origin either way, but under
 * no-referrer browsers send `Origin: null` on our own form POSTs, which Origin checks (ours, and the HTTP
 * server's DNS-rebinding guard in front of us) must then refuse or take on trust.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': PAGE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

const MAX_FORM_BYTES = 256 * 1024;

export function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, ...headers });
  res.end(body);
}

export const sendHtml = (res: ServerResponse, status: number, html: string, headers: Record<string, string | string[]> = {}) =>
  send(res, status, 'text/html; charset=utf-8', html, headers);

/** 303 so a POST is followed by a GET (a reload never repeats a decision). */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { ...SECURITY_HEADERS, Location: location, ...headers });
  res.end();
}

export class BodyTooLarge extends Error {}

/** An application/x-www-form-urlencoded body, refused past MAX_FORM_BYTES. */
export async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new BodyTooLarge('form too large');
    chunks.push(chunk);
  }
  return type === 'application/x-www-form-urlencoded' ? new URLSearchParams(Buffer.concat(chunks).toString('utf8')) : new URLSearchParams();
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

export function isHttps(req: IncomingMessage): boolean {
  return Boolean((req.socket as TLSSocket).encrypted);
}

/**
 * A state-changing request must come from our own pages: Sec-Fetch-Site, when sent, must say same-origin
 * (another port on 127.0.0.1 is same-site, so SameSite cookies alone would not stop it), and an Origin
 * header must be this server's. `Origin: null` (a browser under a no-referrer policy, e.g. an old cached
 * page) passes only with Sec-Fetch-Site: same-origin. The CSRF token is checked as well.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return site === 'same-origin';
  return origin === `${isHttps(req) ? 'https' : 'http'}://${req.headers.host ?? ''}`;
}
