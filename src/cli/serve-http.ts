/**
 * `mailgate serve --http`: MCP over Streamable HTTP (/mcp) and legacy SSE (/sse, /messages) from one process
 * and one app context, every request authenticated by a token (`mailgate token create`). stdout is unused;
 * the addresses, first-run tokens and logs go to stderr.
 */
import { createApp, envMs } from '../app.js';
import { databaseDisplay, type LoadedConfig } from '../config/load.js';
import { createDashboard } from '../dashboard/index.js';
import { invalid } from '../errors.js';
import { ApprovalLinkServer } from '../http/approval-link.js';
import { isLoopback } from '../http/guards.js';
import { McpSessions } from '../http/mcp-transports.js';
import { startHttpServer } from '../http/server.js';
import { log } from '../log.js';
import type { AppContext, Principal } from '../services/context.js';
import { listMailboxes } from '../services/mailboxes.js';
import { startStartupCheck } from '../services/startup-check.js';
import { createToken, listTokens } from '../services/tokens.js';
import { approveCommandFor, cliFlagsFor } from './serve.js';

const DEFAULT_HTTP_PORT = 7464;

export interface HttpServeFlags {
  host?: string | undefined;
  port?: string | undefined;
  'allow-origin'?: string | undefined;
  'allow-host'?: string | undefined;
  'first-run'?: boolean | undefined;
}

export async function serveHttp(loaded: LoadedConfig, flags: HttpServeFlags, who: Principal): Promise<void> {
  const host = flags.host ?? '127.0.0.1';
  const port = parsePort(flags.port);
  const app = await createApp(loaded, { background: true, watch: true });
  const links = new ApprovalLinkServer(app);
  const sessions = new McpSessions(app, {
    links,
    approveCommand: approveCommandFor(loaded),
    cliFlags: cliFlagsFor(loaded),
    idleMs: envMs(process.env, 'MAILGATE_HTTP_SESSION_IDLE_MS'),
    maxSessionsPerToken: envMs(process.env, 'MAILGATE_HTTP_SESSIONS_PER_TOKEN'),
  });
  // Every path that is not an MCP endpoint: the approval links' /approve/..., then the review dashboard.
  const dashboard = createDashboard(app);
  let http: Awaited<ReturnType<typeof startHttpServer>>;
  try {
    http = await startHttpServer(app, sessions, {
      host,
      port,
      allowHosts: list(flags['allow-host']),
      allowOrigins: list(flags['allow-origin']),
      fallback: async (req, res) => (await links.handle(req, res)) || dashboard.handle(req, res),
    });
  } catch (err) {
    await dashboard.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    throw err;
  }
  // Links are for the person on this machine: mounted when the URL is a loopback one (also for 0.0.0.0 or ::,
  // whose URL names 127.0.0.1); a server bound to one non-loopback address keeps them on 127.0.0.1, own port.
  if (isLoopback(new URL(http.url).hostname)) links.mount(http.url);
  if (!isLoopback(host)) {
    log('warn', `listening on ${host}, not only this machine: anyone who can reach it may try tokens; put TLS in front of it (tokens are bearer secrets)`);
  }
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    log('info', 'mailgate shutting down', { why, sessions: sessions.size });
    await http.close().catch(() => undefined);
    await dashboard.close().catch(() => undefined);
    await links.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  const first = flags['first-run'] ? await firstRunTokens(app, who) : undefined;
  log('info', 'mailgate serving MCP over HTTP', {
    mcp: `${http.url}/mcp`,
    sse: `${http.url}/sse`,
    dashboard: `${http.url}/`,
    database: databaseDisplay(loaded.database),
    config: loaded.source ?? 'built-in sandbox default',
  });
  process.stderr.write(banner(http.url, first));
  void startStartupCheck(loaded); // in the background: the server is already answering
}

export function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_HTTP_PORT;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw invalid('--port', `'${value}' is not a port; use 1 to 65535, or 0 for any free port`);
  return n;
}

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

interface FirstRun {
  agent: string;
  reviewer: string;
}

/**
 * On a database that has never had a token: one agent token for the MCP client and one reviewer token for
 * the person (dashboard or a reviewer client), never one token with both, so the assistant cannot approve
 * its own mail. Operator work stays at the terminal (the CLI).
 */
async function firstRunTokens(app: AppContext, who: Principal): Promise<FirstRun | undefined> {
  const operator: Principal = { id: who.id, roles: ['operator'], mailboxes: 'all' };
  if ((await listTokens(app, operator)).length > 0) return undefined;
  // The agent token is bound to the mailboxes there are now, so a mailbox added later is not the assistant's
  // by default; the reviewer token (a person's) sees every mailbox.
  const now = (await listMailboxes(app, operator)).map((m) => m.address);
  const agent = await createToken(app, operator, { name: 'first-run-agent', roles: ['agent'], mailboxes: now.length ? now : 'all' });
  const reviewer = await createToken(app, operator, { name: 'first-run-reviewer', roles: ['reviewer'], mailboxes: 'all' });
  return { agent: agent.token, reviewer: reviewer.token };
}

function banner(url: string, first: FirstRun | undefined): string {
  const lines = [
    '',
    'mailgate is serving MCP over HTTP (Ctrl-C stops it)',
    `  MCP (Streamable HTTP): ${url}/mcp`,
    `  MCP (legacy SSE):      ${url}/sse`,
    `  Review dashboard:      ${url}/  (sign in with a reviewer or operator token)`,
    '  Every request needs "Authorization: Bearer <token>" (mailgate token create).',
  ];
  if (first) {
    lines.push(
      '',
      'First run: two tokens were created. They are shown only this once; keep them private.',
      `  agent    (for your MCP client):          ${first.agent}`,
      `  reviewer (for the person who approves, e.g. in the dashboard):  ${first.reviewer}`,
      '',
      'Connect Claude Code with:',
      `  claude mcp add --transport http mailgate ${url}/mcp --header "Authorization: Bearer ${first.agent}"`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}
