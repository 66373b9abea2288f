/**
 * `mailgate serve`: an MCP server on stdio. stdout carries only JSON-RPC; logs go to stderr.
 * The delivery worker runs in the background, so approvals made by another process are delivered too.
 *
 * Who the session is: with MAILGATE_TOKEN, the token's principal (`token:NAME`) and at most its roles; without
 * it, the roles `--role` names, trusted because whoever can start this process can open the database anyway
 * (a local single-user setup).
 */
import { resolve } from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createApp } from '../app.js';
import { canDraftAndDecide, parseRoles } from '../auth/principal.js';
import type { LoadedConfig } from '../config/load.js';
import { MailgateError } from '../errors.js';
import { startDashboardServer } from '../dashboard/standalone.js';
import { ApprovalLinkServer } from '../http/approval-link.js';
import { log } from '../log.js';
import { createMcpServer } from '../mcp/server.js';
import type { AppContext } from '../services/context.js';
import { resolveToken } from '../services/tokens.js';
import type { Role } from '../values.js';
import { withApp } from './commands.js';

interface Session {
  roles: Role[];
  token?: { id: string; name: string };
}

export async function serve(loaded: LoadedConfig, roleFlag: string | undefined, env: NodeJS.ProcessEnv = process.env, opts: { dashboard?: boolean | undefined } = {}): Promise<void> {
  const asked = roleFlag === undefined ? undefined : parseRoles(roleFlag);
  const token = env.MAILGATE_TOKEN;
  delete env.MAILGATE_TOKEN; // nothing this process starts needs it
  // Authenticate before anything runs (delivery, IDLE watchers): a bad token ends the process here.
  const session = token === undefined ? { roles: asked ?? ['agent'] } : await withApp(loaded, (app) => bindToken(app, token, asked));
  const app = await createApp(loaded, { background: true, watch: session.roles.includes('agent') });
  const links = canDraftAndDecide(session.roles) ? new ApprovalLinkServer(app) : undefined;
  // --dashboard (src/dashboard): the review dashboard beside this stdio server, on 127.0.0.1, a random port.
  // The approval links are served there too (asked before the dashboard), rather than on a port of their own.
  const dashboard = opts.dashboard ? await startDashboardServer(app, { before: links && ((req, res) => links.handle(req, res)) }) : undefined;
  if (dashboard && links) links.mount(dashboard.url);
  if (dashboard) process.stderr.write(`mailgate: review dashboard at ${dashboard.url} (sign in with a reviewer or operator token)\n`);
  const server = createMcpServer(app, {
    roles: session.roles, token: session.token, links, approveCommand: approveCommandFor(loaded), mailboxes: await app.store.listMailboxes(),
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
    roles: session.roles, principal: session.token ? `token:${session.token.name}` : 'unauthenticated (--role)',
    database: loaded.databasePath, config: loaded.source ?? 'built-in sandbox default',
  });
}

/** The token's principal, with the roles --role asks for if the token grants them all. */
async function bindToken(app: AppContext, token: string, asked: Role[] | undefined): Promise<Session> {
  if (!token.trim()) throw new MailgateError('UNAUTHENTICATED', "MAILGATE_TOKEN is set but empty; give a token from 'mailgate token create', or unset it");
  const t = await resolveToken(app, token);
  const more = (asked ?? []).filter((r) => !t.roles.includes(r));
  if (more.length) {
    throw new MailgateError('FORBIDDEN', `--role asks for ${more.join(', ')}, which the token '${t.name}' does not grant (it grants ${t.roles.join(', ')}); ` +
      'drop --role to get the token\'s roles, or have a person create a token with those roles');
  }
  return { roles: asked ?? t.roles, token: { id: t.token_id, name: t.name } };
}

/** `mailgate approve ID` against the database (and config) this server uses, with absolute paths. */
export function approveCommandFor(loaded: LoadedConfig): (id: string) => string {
  const config = loaded.source ? ` --config ${shellQuote(loaded.source)}` : '';
  return (id) => `mailgate approve ${id} --db ${shellQuote(resolve(loaded.databasePath))}${config}`;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
