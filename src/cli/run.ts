/**
 * What each parsed command does. Modules load when their command runs, not at start-up: `serve` (what an MCP
 * client starts) must not pay for the dashboard, the database copier or the setup wizard, and a command that
 * does not touch a database never opens one.
 */
import { userInfo } from 'node:os';
import { loadConfig } from '../config/load.js';
import { invalid, MailgateError } from '../errors.js';
import { type LogFormat, setLogFormat } from '../log.js';
import type { Principal } from '../services/context.js';
import { tuneHeapForServer } from './heap.js';
import type { Invocation } from './program.js';

/** Flags over stdio and over HTTP: `serve` takes either set, never a mix. */
const STDIO_ONLY = ['role', 'mailbox', 'dashboard'];
const HTTP_ONLY = ['host', 'allow-origin', 'allow-host', 'first-run'];

/** The exit code; -1 keeps the process running (a server, until its input closes or a signal). */
export async function runCommand({ path, args, values }: Invocation): Promise<number> {
  const [command, sub] = path.split(' ') as [string, string | undefined];
  const env = process.env;
  const logFormat = values['log-format'] as string | undefined;
  if (logFormat !== undefined) {
    if (!['json', 'pretty', 'auto'].includes(logFormat)) throw invalid('--log-format', 'use pretty, json or auto');
    setLogFormat(logFormat as LogFormat);
  }
  const load = () => loadConfig({ config: values.config as string | undefined, db: values.db as string | undefined });
  switch (path) {
    case 'demo':
      return (await (await import('./demo.js')).demo(), 0);
    case 'webhook secret':
      return ((await import('./webhook.js')).webhookSecretCommand(values), 0);
    case 'doctor':
      return (await import('./doctor.js')).doctorCommand(args, values, env);
    // Neither opens a database: init writes a config file, oauth login talks to the provider.
    case 'init':
      return (await import('./init.js')).initCommand(values, env);
    case 'oauth login':
      return (await import('./oauth.js')).oauthCommand(sub, args, values, env);
    case 'serve':
      return serveCommand(values, load);
  }
  // Before the app: `db` must not migrate (status) or fill the target with the config's mailboxes (copy).
  if (command === 'db') return (await import('./db.js')).dbCommand(sub, args, values, load, env);
  const loaded = load();
  // The person at the terminal: they can open the database file anyway, so every mailbox.
  const who: Principal = {
    id: `cli:${(values.as as string | undefined) ?? osUser()}`,
    roles: ['reviewer', 'operator'],
    mailboxes: 'all',
    via: `cli:${command}`,
  };
  const { withApp } = await import('./commands.js');
  return withApp(loaded, async (app) => {
    const c = await import('./commands.js');
    switch (command) {
      case 'mailbox':
        return (await c.mailboxCommand(app, who, sub, args, values), 0);
      case 'pending':
        return (await c.pendingCommand(app, who, values), 0);
      case 'approve':
        return (await import('./approve.js')).approveCommand(app, who, args, values, (await import('./serve.js')).cliFlagsFor(loaded));
      case 'reject':
        return (await c.rejectCommand(app, who, args, values), 0);
      case 'audit':
        return c.auditCommand(app, who, sub === 'show' ? undefined : sub, values);
      case 'captured':
        return (await c.capturedCommand(app, who, values), 0);
      case 'policy':
        return (await import('./policy.js')).policyCommand(app, who, sub, values);
      case 'suppress':
        return (await (await import('./policy.js')).suppressCommand(app, who, sub, args, values), 0);
      case 'erase':
        return (await (await import('./policy.js')).eraseCommand(app, who, args[0], values), 0);
      case 'resolve':
        return (await (await import('./delivery.js')).resolveCommand(app, who, args, values), 0);
      case 'token':
        return (await (await import('./token.js')).tokenCommand(app, who, sub, args, values), 0);
      case 'webhook':
        return (await (await import('./webhook.js')).webhookCommand(app, who, sub, args, values), 0);
      default:
        throw new MailgateError('INTERNAL', `'mailgate ${path}' is in the command table but has no handler`);
    }
  });
}

async function serveCommand(values: Record<string, unknown>, load: () => ReturnType<typeof loadConfig>): Promise<number> {
  const http = values.http === true;
  for (const flag of http ? STDIO_ONLY : HTTP_ONLY) {
    if (values[flag] === undefined) continue;
    const why = http
      ? `--${flag} is for stdio; over HTTP each request's token decides its ${flag === 'role' ? 'roles' : 'mailboxes'}`
      : `--${flag} is for MCP over HTTP; add --http (see 'mailgate serve --help')`;
    throw new MailgateError('INVALID_INPUT', `--${flag}: ${why}`, { field: `--${flag}` });
  }
  // Over stdio, --port can only be the dashboard's: without --dashboard it would be silently ignored.
  if (!http && values.port !== undefined && !values.dashboard) {
    throw new MailgateError('INVALID_INPUT', "--port: over stdio, --port is the review dashboard's port; add --dashboard (or use --http)", { field: '--port' });
  }
  // serve-http.js (hono, the dashboard) loads only when HTTP is asked for: a stdio server starts without it.
  const dashboardPort = values.dashboard && values.port !== undefined ? (await import('./serve-http.js')).parsePort(values.port as string) : undefined;
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = load();
  } catch (err) {
    // A client-launched stdio server that exits shows only "Connection closed" there: serve the problem instead
    // (src/mcp/setup-problem.ts). At a terminal a person reads stderr, so the problem and exit 2 as before.
    if (http || process.stdin.isTTY || !(err instanceof MailgateError) || err.code !== 'CONFIG_INVALID') throw err;
    await (await import('./serve.js')).serveSetupProblem(err);
    return -1; // runs until the client closes stdin, then exits 2
  }
  if (http) {
    const { serveHttp } = await import('./serve-http.js');
    const who: Principal = { id: `cli:${(values.as as string | undefined) ?? osUser()}`, roles: ['operator'], mailboxes: 'all', via: 'cli:serve' };
    await serveHttp(loaded, values, who);
    tuneHeapForServer(); // up and serving: see heap.ts
    return -1; // keep running until SIGINT/SIGTERM
  }
  const { serve } = await import('./serve.js');
  const mailboxes = values.mailbox as string[] | undefined;
  await serve(loaded, { role: values.role as string | undefined, mailboxes }, process.env, { dashboard: values.dashboard === true, port: dashboardPort });
  tuneHeapForServer(); // connected, and about to answer the handshake: see heap.ts
  return -1; // keep running until stdin closes
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}
