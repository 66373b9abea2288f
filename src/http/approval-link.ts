/**
 * One-time links (approving a held message, or a change that loosens a mailbox), served by the process that made them: at /approve/SECRET on the HTTP server it
 * already runs (`mount`: serve --http, or the --dashboard of a stdio server), else on 127.0.0.1 on a random
 * port of their own, started on first use. GET shows the message and never changes anything; POST with the
 * page's CSRF token approves. The secret in the path is the credential: it reaches only the person, through
 * the MCP client's URL elicitation, which the spec requires to open it outside the model's view.
 *
 * Browser-side defences: the Host must be the one in the link (a DNS-rebinding page carries its own name), a
 * POST must come from the link's origin (Origin, Sec-Fetch-Site) with the token bound to the link, and the
 * pages forbid framing, scripts and referrers, so the secret cannot leak from the page itself.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sameDigest } from '../auth/secrets.js';
import { toMailgateError } from '../errors.js';
import { log } from '../log.js';
import { applyByLink, approveByLink, changeLinkProblem, type FoundLink, findLinkBySecret, viewLink } from '../services/approval-links.js';
import type { LinkIssuer, LinkOutcome } from '../services/confirm.js';
import type { AppContext } from '../services/context.js';
import { changePage, resultPage, reviewPage } from './approval-page.js';

const HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
};
const MAX_BODY = 4096;

interface Tracked {
  note: string | null;
  resolve: (o: LinkOutcome) => void;
  timer: NodeJS.Timeout;
}

export class ApprovalLinkServer implements LinkIssuer {
  private server: Server | undefined;
  private starting: Promise<number | undefined> | undefined;
  private port = 0;
  /** The origin of the server the links are mounted on (`mount`); undefined: the links' own port. */
  private mountedAt: string | undefined;
  /** Per process: a CSRF token is valid only for links this process made. */
  private readonly csrfKey = randomBytes(32);
  private readonly tracked = new Map<string, Tracked>();

  constructor(private readonly ctx: AppContext) {}

  /**
   * Serve the links from another HTTP server at `baseUrl` (its origin), which passes /approve/ requests to
   * `handle` after its own Host/Origin guard; no port of their own is opened. Call before the first link.
   */
  mount(baseUrl: string): void {
    if (this.starting) throw new Error('approval links are already served on their own port; mount them before the first link');
    this.mountedAt = new URL(baseUrl).origin;
  }

  async urlFor(secret: string): Promise<string | undefined> {
    if (this.mountedAt) return `${this.mountedAt}/approve/${secret}`;
    const port = await this.listen();
    return port === undefined ? undefined : `http://127.0.0.1:${port}/approve/${secret}`;
  }

  /**
   * For the server the links are mounted on: answers /approve/... (true), or leaves the request to the next
   * handler (false), as it does every request while not mounted.
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!this.mountedAt || !new URL(req.url ?? '/', this.mountedAt).pathname.startsWith('/approve/')) return false;
    await this.answer(req, res, this.mountedAt);
    return true;
  }

  track(linkId: string, note: string | null, expiresAt: number): Promise<LinkOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(linkId, { kind: 'closed' }), Math.max(0, expiresAt - this.ctx.clock()));
      timer.unref();
      this.tracked.set(linkId, { note, resolve, timer });
    });
  }

  async close(): Promise<void> {
    for (const id of [...this.tracked.keys()]) this.settle(id, { kind: 'closed' });
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private settle(linkId: string, outcome: LinkOutcome): void {
    const t = this.tracked.get(linkId);
    if (!t) return;
    clearTimeout(t.timer);
    this.tracked.delete(linkId);
    t.resolve(outcome);
  }

  /** The port, or undefined if this machine will not let us listen on 127.0.0.1 (then form mode is used). */
  private listen(): Promise<number | undefined> {
    this.starting ??= new Promise((resolve) => {
      const server = createServer((req, res) => void this.answer(req, res, `http://127.0.0.1:${this.port}`));
      server.once('error', (err) => {
        log('warn', 'approval links unavailable: cannot listen on 127.0.0.1', { error: String(err) });
        resolve(undefined);
      });
      server.listen(0, '127.0.0.1', () => {
        this.server = server;
        this.port = (server.address() as AddressInfo).port;
        server.unref(); // the MCP transport decides when the process ends, not a browser tab
        resolve(this.port);
      });
    });
    return this.starting;
  }

  private csrfFor(linkId: string): string {
    return createHmac('sha256', this.csrfKey).update(linkId).digest('hex');
  }

  /** `origin` is where the links are served: the mounting server's, or 127.0.0.1 on their own port. */
  private async answer(req: IncomingMessage, res: ServerResponse, origin: string): Promise<void> {
    try {
      await this.respond(req, res, origin);
    } catch (err) {
      log('error', 'approval page failed', { error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) send(res, 500, resultPage('Something went wrong', 'The approval was not recorded; the details are in the server log.'));
      else res.end();
    }
  }

  private async respond(req: IncomingMessage, res: ServerResponse, origin: string): Promise<void> {
    if ((req.headers.host ?? '').toLowerCase() !== new URL(origin).host) return send(res, 421, resultPage('Wrong address', `Open the link as ${origin}/...`));
    const path = /^\/approve\/([^/]+)$/.exec(new URL(req.url ?? '/', origin).pathname);
    if (!path) return send(res, 404, resultPage('Not found', 'There is nothing here.'));
    if (req.method !== 'GET' && req.method !== 'POST') {
      res.setHeader('Allow', 'GET, POST');
      return send(res, 405, resultPage('Not allowed', 'Open the link in a browser.'));
    }
    const found = await findLinkBySecret(this.ctx, path[1]!);
    if (!found) return send(res, 404, resultPage('Link not valid', 'This approval link is unknown. Ask your assistant for the approval again.'));
    const link = found.link;
    if (req.method === 'GET') return this.show(res, found);
    const site = req.headers['sec-fetch-site'];
    if ((req.headers.origin !== undefined && req.headers.origin !== origin) || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
      return send(res, 403, resultPage('Refused', 'Approvals and changes are only accepted from the approval page itself.'));
    }
    const body = await readBody(req);
    if (body === undefined) return send(res, 413, resultPage('Refused', 'The request was too large.'));
    if (!sameDigest(new URLSearchParams(body).get('csrf') ?? '', this.csrfFor(link.link_id))) {
      return send(res, 403, resultPage('Refused', 'The form token is missing or wrong. Open the link again and press Approve there.'));
    }
    try {
      if (found.kind === 'change') {
        const r = await applyByLink(this.ctx, found.link);
        this.settle(link.link_id, { kind: 'changed', result: r });
        return send(
          res,
          200,
          resultPage('Changed', `${r.mailbox.address} is changed (${found.link.loosens.join('; ')}); its mode is now ${r.mailbox.oversight_mode}.`),
        );
      }
      const approved = await approveByLink(this.ctx, found.link, this.tracked.get(link.link_id)?.note ?? null);
      this.settle(link.link_id, { kind: 'approved', message: approved });
      send(res, 200, resultPage('Approved', `${approved.message_id} is approved and now ${approved.status}.`));
    } catch (err) {
      const e = toMailgateError(err);
      if (e.code === 'INTERNAL') log('error', 'confirmation by link failed', { error: err instanceof Error ? err.stack : String(err) });
      this.settle(link.link_id, { kind: 'refused', error: e });
      send(res, 409, resultPage(found.kind === 'change' ? 'Not changed' : 'Not approved', e.message));
    }
  }

  /** GET: what the link would do, and its button; never changes anything. */
  private async show(res: ServerResponse, found: FoundLink): Promise<void> {
    const csrf = this.csrfFor(found.link.link_id);
    if (found.kind === 'change') {
      const problem = await changeLinkProblem(this.ctx, found.link);
      if (problem) return send(res, 410, resultPage('This link cannot make the change', problem));
      return send(res, 200, changePage(found.link, csrf));
    }
    const { message, problem } = await viewLink(this.ctx, found.link);
    if (problem || !message) return send(res, 410, resultPage('This link cannot approve', problem ?? 'the message is gone'));
    send(res, 200, reviewPage(message, csrf, found.link.expires_at));
  }
}

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, HEADERS).end(html);
}

/** The request body as text, or undefined past MAX_BODY bytes (the form has one short field). */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
