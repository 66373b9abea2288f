/**
 * The review dashboard: server-rendered pages where a person signed in with a reviewer or operator token
 * reviews held mail, decides it, reads the audit trail and (as an operator) changes mailbox modes.
 *
 * `createDashboard(app).handle(req, res)` serves the dashboard's paths and returns false for any other, so
 * an HTTP server can put it beside the MCP endpoints; src/dashboard/standalone.ts runs it on its own.
 *
 * Browser-side defences: a random session id in an HttpOnly SameSite=Strict cookie; every state-changing
 * POST needs the session's CSRF token and must not come from another origin; every response forbids
 * framing, sniffing and referrers, and the page CSP allows no inline script. Email HTML is shown inert
 * (src/dashboard/render-email.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MailgateError } from '../errors.js';
import { log } from '../log.js';
import type { AppContext } from '../services/context.js';
import { BodyTooLarge, readForm, redirect, sameOrigin, send, sendHtml } from './http.js';
import { LiveFeed } from './live.js';
import * as pages from './pages.js';
import { csrfMatches, Sessions } from './session.js';
import { CSS, FAVICON, JS } from './static.js';
import { esc, type Flash, layout, loginPage } from './views/layout.js';

export interface DashboardOptions {
  /** How often the live feed looks for changes other processes made (ms). Default 1000. */
  pollMs?: number;
  /** How long a sign-in lasts (ms). Default 8 hours. */
  sessionTtlMs?: number;
}

export interface Dashboard {
  /** Serves the request if it is for the dashboard (true), else leaves it untouched (false). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  close(): Promise<void>;
}

type Handler = (c: pages.Call, params: string[]) => Promise<void>;

interface Route {
  method: 'GET' | 'POST';
  path: RegExp;
  handler: Handler;
  /** Shows a failed action's reason on the page it came from, so nothing typed is lost silently. */
  fail?: (c: pages.Call, params: string[], flash: Flash, status: number) => Promise<void>;
}

const STATUS: Partial<Record<string, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  INVALID_INPUT: 400,
  UNKNOWN_MESSAGE: 404,
  UNKNOWN_MAILBOX: 404,
  CONFIRMATION_REQUIRED: 409,
};

export function createDashboard(app: AppContext, opts: DashboardOptions = {}): Dashboard {
  const sessions = new Sessions(app, opts.sessionTtlMs ?? 8 * 3600_000);
  const live = new LiveFeed(app, opts.pollMs ?? 1000);
  const id = (p: string[]) => decodeURIComponent(p[0]!);
  const backToMessage = (c: pages.Call, p: string[], flash: Flash, status: number) =>
    pages.message(app, c, id(p), flash, status).catch(() => sendHtml(c.res, status, layout('Error', '', c.session, flash)));
  const routes: Route[] = [
    { method: 'GET', path: /^\/queue$/, handler: (c) => pages.queue(app, c) },
    { method: 'GET', path: /^\/messages\/([^/]+)$/, handler: (c, p) => pages.message(app, c, id(p)) },
    { method: 'GET', path: /^\/messages\/([^/]+)\/status$/, handler: (c, p) => pages.messageStatus(app, c, id(p)) },
    { method: 'POST', path: /^\/messages\/([^/]+)\/approve$/, handler: (c, p) => pages.approve(app, c, id(p)), fail: backToMessage },
    { method: 'POST', path: /^\/messages\/([^/]+)\/reject$/, handler: (c, p) => pages.reject(app, c, id(p)), fail: backToMessage },
    { method: 'GET', path: /^\/mailboxes$/, handler: (c) => pages.mailboxes(app, c) },
    {
      method: 'POST',
      path: /^\/mailboxes\/mode$/,
      handler: (c) => pages.changeMode(app, c),
      fail: (c, _p, flash, status) => pages.mailboxes(app, c, flash, status),
    },
    { method: 'GET', path: /^\/audit$/, handler: (c) => pages.audit(app, c) },
    { method: 'GET', path: /^\/events$/, handler: async (c) => live.subscribe(c.res) },
    {
      method: 'POST',
      path: /^\/logout$/,
      handler: async (c) => {
        sessions.end(c.session);
        redirect(c.res, '/login', { 'Set-Cookie': Sessions.clearCookie(c.req) });
      },
    },
  ];

  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) return sendHtml(res, 403, loginPage('Refused: the sign-in did not come from this page.'));
    const form = await readForm(req);
    try {
      const { sid, session } = await sessions.signIn(form.get('token') ?? '');
      log('info', 'dashboard sign-in', { principal: session.principal.id });
      redirect(res, '/queue', { 'Set-Cookie': sessions.cookie(req, sid) });
    } catch (err) {
      if (!(err instanceof MailgateError)) throw err;
      sendHtml(res, STATUS[err.code] ?? 400, loginPage(err.message));
    }
  }

  async function failed(c: pages.Call, err: MailgateError, route: Route, params: string[]): Promise<void> {
    const status = STATUS[err.code] ?? 409;
    const flash: Flash = { kind: 'error', text: `${err.code}: ${err.message}` };
    if (route.fail) return route.fail(c, params, flash, status);
    sendHtml(c.res, status, layout('Error', '<p><a href="/queue">Back to the queue</a></p>', c.session, flash));
  }

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const path = url.pathname;
    if (path === '/static/app.css') return (send(res, 200, 'text/css; charset=utf-8', CSS), true);
    if (path === '/static/app.js') return (send(res, 200, 'text/javascript; charset=utf-8', JS), true);
    if (path === '/favicon.svg') return (send(res, 200, 'image/svg+xml', FAVICON, { 'Cache-Control': 'max-age=86400' }), true);
    if (path.startsWith('/static/')) return (sendHtml(res, 404, layout('Not found', '<p>No such file.</p>')), true);
    if (path === '/login') {
      if (req.method === 'POST') await signIn(req, res);
      else if ((await sessions.fromRequest(req)) !== undefined) redirect(res, '/queue');
      else sendHtml(res, 200, loginPage());
      return true;
    }
    let params: string[] = [];
    const route =
      path === '/'
        ? undefined
        : routes.find((r) => {
            const m = r.path.exec(path);
            if (m) params = m.slice(1);
            return m !== null;
          });
    if (path !== '/' && !route) return false;
    const session = await sessions.fromRequest(req);
    if (!session) {
      if (req.method === 'GET') redirect(res, '/login');
      else sendHtml(res, 401, loginPage('Your session has ended; sign in again.'));
      return true;
    }
    if (!route) return (redirect(res, '/queue'), true);
    if (req.method !== route.method) return (send(res, 405, 'text/plain; charset=utf-8', 'method not allowed', { Allow: route.method }), true);
    const call: pages.Call = { req, res, url, session, form: new URLSearchParams() };
    if (route.method === 'POST') {
      call.form = await readForm(req);
      if (!sameOrigin(req) || !csrfMatches(session, call.form.get('csrf'))) {
        log('warn', 'dashboard refused a cross-site or token-less POST', { path, principal: session.principal.id });
        return (
          sendHtml(
            res,
            403,
            layout('Refused', '<p>This request did not come from a dashboard page (cross-site, or without its form token). Nothing was changed.</p>', session),
          ),
          true
        );
      }
    }
    try {
      await route.handler(call, params);
    } catch (err) {
      if (!(err instanceof MailgateError) || res.headersSent) throw err;
      await failed(call, err, route, params);
    }
    return true;
  }

  return {
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
      try {
        return await dispatch(req, res, url);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          if (!res.headersSent) send(res, 413, 'text/plain; charset=utf-8', 'request body too large');
          return true;
        }
        log('error', 'dashboard request failed', { path: url.pathname, error: err instanceof Error ? err.stack : String(err) });
        if (!res.headersSent)
          sendHtml(
            res,
            500,
            layout('Error', `<p>Something went wrong (${esc(err instanceof Error ? err.name : 'error')}); the server log has the details.</p>`),
          );
        else res.end();
        return true;
      }
    },
    async close() {
      await live.close();
      sessions.clear();
    },
  };
}
