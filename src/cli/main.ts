#!/usr/bin/env node
/** The mailgate command line. `mailgate help` lists the commands. */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { toMailgateError, MailgateError } from '../errors.js';
import { log } from '../log.js';
import type { Principal } from '../services/context.js';
import { auditCommand, capturedCommand, type Flags, mailboxCommand, pendingCommand, rejectCommand, withApp } from './commands.js';
import { approveCommand } from './approve.js';
import { demo } from './demo.js';
import { eraseCommand, policyCommand, suppressCommand } from './policy.js';
import { resolveCommand } from './delivery.js';
import { webhookCommand, webhookSecretCommand } from './webhook.js';
import { cliFlagsFor, serve } from './serve.js';
import { parsePort, serveHttp } from './serve-http.js';
import { tokenCommand } from './token.js';
import { dbCommand } from './db.js';
import { doctorCommand } from './doctor.js';
import { checkFlags, COMMAND_FLAGS, commandKey } from './flags.js';

const COMMANDS = new Set(Object.keys(COMMAND_FLAGS).map((k) => k.split(' ')[0]!));

const HELP = `mailgate: an MCP email server where a human keeps control

Usage: mailgate <command> [options]
       mailgate [serve options]              with stdin not a terminal (an MCP client launching it): same as serve

  serve [--role agent|reviewer|operator] [--mailbox ADDRESS ...] [--dashboard [--port N]]
                                            MCP server on stdio (default role: agent; combine as agent,reviewer);
                                            with MAILGATE_TOKEN set, the token's principal, roles and mailboxes;
                                            --mailbox (repeatable) narrows the session to those mailboxes;
                                            --dashboard also serves the review dashboard on 127.0.0.1, on --port
                                            (default: any free port); its URL goes to stderr (and stdout on a terminal)
  serve --http [--host 127.0.0.1] [--port 7464] [--allow-origin URL,..] [--allow-host NAME,..] [--first-run]
                                            MCP over HTTP: Streamable HTTP at /mcp, legacy SSE at /sse; every request
                                            needs a token (Authorization: Bearer); --first-run makes starter tokens
  demo                                      watch a send be held, approved and delivered (throwaway sandbox)
  doctor                                    check the config, the database and each account's IMAP and SMTP
                                            (connect, TLS, login); each failure with its fix; exit 1 if any fails
  mailbox list                              list mailboxes and their modes
  mailbox create ADDRESS [--mode M | --autonomy-level N | --approval-mode A] [--rules JSON] [--ttl 72h] [--display-name NAME] [--policy JSON]
  mailbox update ADDRESS [mode options] --reason TEXT
  mailbox resume ADDRESS [--reason TEXT]    resume deliveries paused for an SMTP authentication or TLS problem
  pending [--mailbox ADDRESS] [--limit N]   list mail held for approval
  approve MESSAGE_ID [--note TEXT]          approve and send a held message
  reject MESSAGE_ID --reason TEXT           reject a held message; it is never sent
  resolve MESSAGE_ID --delivered|--not-delivered --reason TEXT
                                            settle an outcome_unknown message once you have checked: delivered ->
                                            sent; not delivered -> failed (send it again only as a new draft)
  audit [--message ID] [--mailbox ADDRESS]  show audit events
  audit verify [--anchor HASH]              check the hash chain; prints the head hash to keep elsewhere
  audit export [--mailbox A] [--since DATE] [--out FILE]   JSON Lines for auditors: chain status, then one record per message
  captured                                  sandbox mail to outside addresses (captured, never sent)
  policy test --mailbox A --to B[,C] [--cc ..] [--bcc ..] --subject S --text T | --file draft.json
                                            which policy rules a draft would hit; nothing is recorded or sent
  suppress add|remove ADDRESS_OR_DOMAIN [--mailbox A] [--reason R]   never mail this address or domain
  suppress list [--mailbox A]               the suppression list (manual, config and hard-bounce entries)
  erase MESSAGE_ID --reason TEXT            erase a decided message's personal data (the audit chain still verifies)
  token create --role ROLES --name NAME (--mailbox ADDRESS ... | --all-mailboxes)
                                            a bearer token for MAILGATE_TOKEN, bound to those mailboxes (repeat
                                            --mailbox), or to every mailbox; printed once, only its hash is kept
  token list | revoke NAME|ID               tokens (never their secrets); revoke one
  webhook add URL [--secret whsec_...] [--events email.pending,...] [--mailbox ADDRESS] [--allow-private-network]
                                            POST signed events to URL (a secret is generated and shown once if none is given);
                                            loopback/private addresses only with --allow-private-network
  webhook list | remove ID [--reason TEXT]  endpoints with their delivery counts (never their secrets); stop one
  webhook secret                            print a fresh whsec_ secret
  db status [--verify]                      the database (password masked), its schema version against this
                                            mailgate's, and counts; --verify also checks the audit chain. Changes nothing
  db migrate                                bring the database's schema up to this mailgate's (what starting does)
  db copy --from FILE --to URL              copy a SQLite database into an empty PostgreSQL database, in one
                                            transaction, and verify its audit chain there (no --to: MAILGATE_DATABASE_URL)

Options: --config FILE (or MAILGATE_CONFIG), --db FILE|URL (or MAILGATE_DB; MAILGATE_DATABASE_URL overrides both),
         --json, --as NAME (who you are in the audit log)
With no config, mailgate uses a built-in sandbox: agent@mailgate.test (gated_send) and you@mailgate.test (autonomous).
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      db: { type: 'string' },
      json: { type: 'boolean' },
      as: { type: 'string' },
      role: { type: 'string' },
      note: { type: 'string' },
      reason: { type: 'string' },
      mailbox: { type: 'string', multiple: true },
      'all-mailboxes': { type: 'boolean' },
      limit: { type: 'string' },
      message: { type: 'string' },
      mode: { type: 'string' },
      'autonomy-level': { type: 'string' },
      'approval-mode': { type: 'string' },
      rules: { type: 'string' },
      policy: { type: 'string' },
      ttl: { type: 'string' },
      'display-name': { type: 'string' },
      cursor: { type: 'string' },
      since: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      secret: { type: 'string' },
      events: { type: 'string' },
      name: { type: 'string' },
      'allow-private-network': { type: 'boolean' },
      to: { type: 'string' },
      cc: { type: 'string' },
      bcc: { type: 'string' },
      subject: { type: 'string' },
      text: { type: 'string' },
      html: { type: 'string' },
      file: { type: 'string' },
      anchor: { type: 'string' },
      http: { type: 'boolean' },
      host: { type: 'string' },
      port: { type: 'string' },
      'allow-origin': { type: 'string' },
      'allow-host': { type: 'string' },
      'first-run': { type: 'boolean' },
      dashboard: { type: 'boolean' },
      delivered: { type: 'boolean' },
      'not-delivered': { type: 'boolean' },
      verify: { type: 'boolean' },
      from: { type: 'string' },
    },
  });
  const [given, ...rest] = positionals;
  if (values.version) return (void process.stdout.write('0.1.0\n'), 0);
  // MCP clients launch a server as `npx -y mailgate` with stdin a pipe: with no command that is `serve`, not help
  // on stdout (which the client reads as a broken handshake and reports only as "Connection closed").
  const command = given ?? (process.stdin.isTTY ? undefined : 'serve');
  if (values.help || command === undefined || command === 'help') return (void process.stdout.write(HELP), 0);
  // Refused before anything opens (or creates) a database.
  if (!COMMANDS.has(command)) throw new MailgateError('INVALID_INPUT', `unknown command '${command}'; run 'mailgate help'`);
  if (command === 'serve' && values.http && values.role !== undefined) {
    throw new MailgateError('INVALID_INPUT', "--role is for stdio; over HTTP each request's token decides its roles", { field: '--role' });
  }
  if (command === 'serve' && values.http && values.mailbox !== undefined) {
    throw new MailgateError('INVALID_INPUT', "--mailbox is for stdio; over HTTP each request's token decides its mailboxes", { field: '--mailbox' });
  }
  checkFlags(commandKey(command, rest[0], values.http === true), values);
  // Over stdio, --port can only be the dashboard's: without --dashboard it would be silently ignored.
  if (command === 'serve' && !values.http && values.port !== undefined && !values.dashboard) {
    throw new MailgateError('INVALID_INPUT', "--port: over stdio, --port is the review dashboard's port; add --dashboard (or use --http)", { field: '--port' });
  }
  const dashboardPort = command === 'serve' && values.dashboard && values.port !== undefined ? parsePort(values.port) : undefined;
  // Every command but serve and token create takes one --mailbox (checkFlags refused repeats).
  const flags = { ...values, mailbox: values.mailbox?.[0] } as Flags;
  if (command === 'demo') return (await demo(), 0);
  if (command === 'webhook' && rest[0] === 'secret') return (webhookSecretCommand(flags), 0);
  // Before the app: `db` must not migrate (status) or fill the target with the config's mailboxes (copy).
  // Before the app too: doctor looks at the database as it is, and must not create or migrate it.
  if (command === 'doctor') return doctorCommand(rest, values, process.env);
  if (command === 'db') return dbCommand(rest[0], rest.slice(1), values, () => loadConfig({ config: values.config, db: values.db }), process.env);
  const loaded = loadConfig({ config: values.config, db: values.db });
  // The person at the terminal: they can open the database file anyway, so every mailbox.
  const who: Principal = { id: `cli:${values.as ?? osUser()}`, roles: ['reviewer', 'operator'], mailboxes: 'all', via: `cli:${command}` };
  if (command === 'serve' && values.http) {
    await serveHttp(loaded, values, { ...who, roles: ['operator'] });
    return -1; // keep running until SIGINT/SIGTERM
  }
  if (command === 'serve') {
    await serve(loaded, { role: values.role, mailboxes: values.mailbox }, process.env, { dashboard: values.dashboard, port: dashboardPort });
    return -1; // keep running until stdin closes
  }
  return withApp(loaded, async (app) => {
    switch (command) {
      case 'mailbox':
        await mailboxCommand(app, who, rest[0], rest.slice(1), flags);
        return 0;
      case 'pending':
        await pendingCommand(app, who, flags);
        return 0;
      case 'approve':
        return approveCommand(app, who, rest, flags, cliFlagsFor(loaded));
      case 'reject':
        await rejectCommand(app, who, rest, flags);
        return 0;
      case 'audit':
        return auditCommand(app, who, rest[0], flags);
      case 'captured':
        await capturedCommand(app, who, flags);
        return 0;
      case 'policy':
        return policyCommand(app, who, rest[0], flags);
      case 'suppress':
        await suppressCommand(app, who, rest[0], rest.slice(1), flags);
        return 0;
      case 'erase':
        await eraseCommand(app, who, rest[0], flags);
        return 0;
      case 'resolve':
        await resolveCommand(app, who, rest, values);
        return 0;
      case 'token':
        await tokenCommand(app, who, rest[0], rest.slice(1), { ...flags, mailbox: values.mailbox });
        return 0;
      case 'webhook':
        await webhookCommand(app, who, rest[0], rest.slice(1), flags);
        return 0;
      default:
        throw new MailgateError('INVALID_INPUT', `unknown command '${command}'; run 'mailgate help'`);
    }
  });
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const e =
      err instanceof MailgateError
        ? err
        : (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')
          ? new MailgateError('INVALID_INPUT', `${(err as Error).message}; run 'mailgate help'`)
          : toMailgateError(err);
    if (e.code === 'INTERNAL') log('error', 'unexpected failure', { error: err instanceof Error ? err.stack : String(err) });
    process.stderr.write(`mailgate: ${e.code}: ${e.message}\n`);
    process.exitCode = exitCodeFor(e.code);
  },
);

/**
 * Exit codes a script can act on (README, "Command line"): 2 the command or config is wrong; 3 the database
 * itself needs a person (damaged, foreign, too new, unwritable; PostgreSQL: login refused, no such database,
 * TLS failed); 4 the database is full, busy, failing I/O or unreachable, so the same command may work once that
 * clears; 5 (approve) the approval was recorded but the delivery failed or its outcome is unknown; 1 anything
 * else that failed.
 */
function exitCodeFor(code: MailgateError['code']): number {
  if (code === 'CONFIG_INVALID' || code === 'INVALID_INPUT') return 2;
  if (code === 'STORE_FULL' || code === 'STORE_BUSY' || code === 'STORE_IO_ERROR' || code === 'STORE_UNREACHABLE') return 4;
  if (code.startsWith('STORE_')) return 3;
  return 1;
}
