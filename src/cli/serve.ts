/**
 * `mailgate serve`: an MCP server on stdio. stdout carries only JSON-RPC; logs go to stderr.
 * The delivery worker runs in the background, so approvals made by another process are delivered too.
 *
 * Who the session is: with MAILGATE_TOKEN, the token's principal (`token:NAME`) and at most its roles; without
 * it, the roles `--role` names, trusted because whoever can start this process can open the database anyway
 * (a local single-user setup).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createApp } from '../app.js';
import { canDraftAndDecide, parseRoles } from '../auth/principal.js';
import { databaseDisplay, databaseFlags, type LoadedConfig } from '../config/load.js';
import { MailgateError, unknownMailboxError } from '../errors.js';
import type { StandaloneOptions } from '../dashboard/standalone.js';
import type { ApprovalLinkServer } from '../http/approval-link.js';
import { log } from '../log.js';
import { createMcpServer } from '../mcp/server.js';
import { createSetupProblemServer } from '../mcp/setup-problem.js';
import type { AppContext, MailboxScope, Principal } from '../services/context.js';
import { listMailboxes } from '../services/mailboxes.js';
import { startStartupCheck } from '../services/startup-check.js';
import { resolveToken } from '../services/tokens.js';
import { canonicalAddress, type Role } from '../values.js';
import { withApp } from './commands.js';
import { shellQuote } from '../text/shell.js';

/** How long after the handshake the start-up check waits (see serve). */
const STARTUP_CHECK_DELAY_MS = 1000;

interface Session {
  roles: Role[];
  mailboxes: MailboxScope;
  token?: { id: string; name: string };
}

/** The session as the services see it; listing mailboxes audits nothing, so the id only names it. */
const principalOf = (s: Session): Principal => ({ id: s.token ? `token:${s.token.name}` : 'serve', roles: s.roles, mailboxes: s.mailboxes });

/** What the command line asks the session to be: `--role`, and `--mailbox` (repeatable) to narrow it. */
export interface SessionFlags {
  role?: string | undefined;
  mailboxes?: readonly string[] | undefined;
}

export async function serve(
  loaded: LoadedConfig,
  flags: SessionFlags,
  env: NodeJS.ProcessEnv = process.env,
  opts: { dashboard?: boolean | undefined; port?: number | undefined } = {},
): Promise<void> {
  const asked = flags.role === undefined ? undefined : parseRoles(flags.role);
  const token = env.MAILGATE_TOKEN;
  delete env.MAILGATE_TOKEN; // nothing this process starts needs it
  // Authenticate before anything runs (delivery, IDLE watchers): a bad token or mailbox ends the process here.
  const local: Session = { roles: asked ?? ['agent'], mailboxes: 'all' };
  const session =
    token === undefined && !flags.mailboxes?.length
      ? local
      : await withApp(loaded, async (app) => {
          const s = token === undefined ? local : await bindToken(app, token, asked);
          return { ...s, mailboxes: await narrowMailboxes(app, s, flags.mailboxes) };
        });
  const app = await createApp(loaded, { background: true, watch: session.roles.includes('agent') });
  // The link pages and the dashboard (sanitize-html, html-to-text) load only when used: start-up stays small.
  const links: ApprovalLinkServer | undefined = canDraftAndDecide(session.roles)
    ? new (await import('../http/approval-link.js')).ApprovalLinkServer(app)
    : undefined;
  // --dashboard (src/dashboard): the review dashboard beside this stdio server, on 127.0.0.1, on --port or a
  // free one. The approval links are served there too (asked before the dashboard), rather than on a port of their own.
  const before = links && ((req: IncomingMessage, res: ServerResponse) => links.handle(req, res));
  const dashboard = opts.dashboard ? await startDashboard(app, before, opts.port) : undefined;
  if (dashboard && links) links.mount(dashboard.url);
  if (dashboard) announceDashboard(dashboard.url);
  const server = createMcpServer(app, {
    roles: session.roles,
    scope: session.mailboxes,
    token: session.token,
    links,
    approveCommand: approveCommandFor(loaded),
    cliFlags: cliFlagsFor(loaded),
    mailboxes: await listMailboxes(app, principalOf(session)),
    afterFirstList: () => app.watchers?.warmUp(),
  });
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    log('info', 'mailgate shutting down', { why });
    await server.close().catch(() => undefined);
    await links?.close().catch(() => undefined);
    await dashboard?.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.stdin.on('end', () => void shutdown('stdin closed'));
  transport.onclose = () => void shutdown('transport closed');
  await server.connect(transport);
  log('info', 'mailgate serving MCP on stdio', {
    roles: session.roles,
    mailboxes: session.mailboxes,
    principal: session.token ? `token:${session.token.name}` : 'unauthenticated (--role)',
    database: databaseDisplay(loaded.database),
    config: loaded.source ?? 'built-in sandbox default',
  });
  // Once the handshake has settled (a moment after the client's `initialized`, when its tools/list has been
  // answered): the check loads the IMAP and SMTP libraries and opens connections, which must not hold up the
  // client's first requests. A client that never sends `initialized` gets it as late.
  let checkTimer: NodeJS.Timeout | undefined;
  const startCheck = () => {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(() => void startStartupCheck(loaded, env), STARTUP_CHECK_DELAY_MS).unref();
  };
  server.server.oninitialized = startCheck;
  startCheck();
}

/**
 * `serve` on stdio when the config does not load (CONFIG_INVALID): rather than exit, which an MCP client shows
 * only as "Connection closed", answer the handshake with a server that states the problem (src/mcp/setup-problem.ts)
 * and exit with the config error's code once the client lets go. The problem goes to stderr too.
 */
export async function serveSetupProblem(err: MailgateError): Promise<void> {
  // The whole message (with any source excerpt) as at a terminal: stderr is the person's, not the model's.
  process.stderr.write(`mailgate: ${err.code}: ${err.message}\n`);
  log('error', 'mailgate cannot start; serving only the setup_problem tool, which tells the MCP client why', { code: err.code });
  const server = createSetupProblemServer(err);
  const transport = new StdioServerTransport();
  let stopping = false;
  const stop = () => {
    // server.close() closes the transport, whose onclose is this again: without the flag it recursed until the
    // stack overflowed, and the process printed that for each frame instead of exiting.
    if (stopping) return;
    stopping = true;
    void server.close().catch(() => undefined);
    process.exit(2); // what `mailgate` exits with for CONFIG_INVALID at a terminal
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop);
  transport.onclose = stop;
  await server.connect(transport);
}

async function startDashboard(app: AppContext, before: StandaloneOptions['before'], port: number | undefined) {
  try {
    const { startDashboardServer } = await import('../dashboard/standalone.js');
    return await startDashboardServer(app, { before, ...(port === undefined ? {} : { port }) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    throw new MailgateError('INVALID_INPUT', `--port: cannot listen on 127.0.0.1:${port} (${code}); choose another port, or omit --port for a free one`, {
      field: '--port',
    });
  }
}

/**
 * stderr is where a stdio server's messages go, but an MCP client such as Claude Desktop files it in a log the
 * person rarely opens (issue 12). stdout carries only JSON-RPC to a client; when it is a terminal, nobody parses
 * it, so the person who started `serve --dashboard` there sees the URL where they are looking.
 */
function announceDashboard(url: string): void {
  const line = `mailgate: review dashboard at ${url} (sign in with a reviewer or operator token)\n`;
  process.stderr.write(line);
  if (process.stdout.isTTY) process.stdout.write(line);
}

/** The token's principal, with the roles --role asks for if the token grants them all. */
async function bindToken(app: AppContext, token: string, asked: Role[] | undefined): Promise<Session> {
  if (!token.trim()) throw new MailgateError('UNAUTHENTICATED', "MAILGATE_TOKEN is set but empty; give a token from 'mailgate token create', or unset it");
  const t = await resolveToken(app, token);
  const more = (asked ?? []).filter((r) => !t.roles.includes(r));
  if (more.length) {
    throw new MailgateError(
      'FORBIDDEN',
      `--role asks for ${more.join(', ')}, which the token '${t.name}' does not grant (it grants ${t.roles.join(', ')}); ` +
        "drop --role to get the token's roles, or have a person create a token with those roles",
    );
  }
  return { roles: asked ?? t.roles, mailboxes: t.mailboxes, token: { id: t.token_id, name: t.name } };
}

/** `--mailbox` narrows the session to mailboxes that exist and that the token (if any) is bound to; never widens it. */
async function narrowMailboxes(app: AppContext, s: Session, asked: readonly string[] | undefined): Promise<MailboxScope> {
  if (!asked?.length) return s.mailboxes;
  const out: string[] = [];
  for (const address of asked) {
    const wanted = canonicalAddress(address);
    if (s.mailboxes !== 'all' && !s.mailboxes.includes(wanted)) {
      throw new MailgateError(
        'FORBIDDEN',
        `--mailbox asks for ${wanted}, which the token '${s.token?.name}' is not bound to (it is bound to ${s.mailboxes.join(', ')}); ` +
          "drop --mailbox to get the token's mailboxes, or have a person create a token for that mailbox",
      );
    }
    const known = (await listMailboxes(app, principalOf(s))).map((m) => m.address);
    if (!known.includes(wanted)) throw unknownMailboxError(address, known);
    out.push(wanted);
  }
  return [...new Set(out)];
}

/** `--db FILE [--config FILE]` with absolute paths: what every command a person is told to run needs. */
export function cliFlagsFor(loaded: LoadedConfig): string[] {
  return [...databaseFlags(loaded.database), ...(loaded.source ? ['--config', loaded.source] : [])];
}

/** `mailgate approve ID` against the database (and config) this server uses, with absolute paths. */
export function approveCommandFor(loaded: LoadedConfig): (id: string) => string {
  const config = loaded.source ? ` --config ${shellQuote(loaded.source)}` : '';
  const db = databaseFlags(loaded.database)
    .map((f) => ` ${shellQuote(f)}`)
    .join('');
  return (id) => `mailgate approve ${id}${db}${config}`;
}
