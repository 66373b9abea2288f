#!/usr/bin/env node
/** The mailgate command line. `mailgate help` lists the commands; spec.ts holds them, program.ts parses them. */
import { CommanderError } from 'commander';
import * as z from 'zod';
import { MailgateError, toMailgateError } from '../errors.js';
import { log } from '../log.js';
import { buildProgram } from './program.js';
import { COMMANDS, GLOBAL_OPTIONS } from './spec.js';
import { runCommand } from './run.js';

// zod compiles an object schema into a function (new Function) at its first parse: worth it in a hot loop, not
// in a command whose schemas (the config, MCP's messages, each tool's input) parse a handful of times each. Parsing
// them interpreted took ~20 ms of CPU off a cold start to tools/list (README "Performance"), with the same results.
z.config({ jitless: true });

/** Options (global, and serve's, which an MCP client's launch line may carry) whose next word is their value. */
const VALUED = new Set(
  [...GLOBAL_OPTIONS, ...(COMMANDS.find((c) => c.path === 'serve')?.options ?? [])]
    .filter(([flags]) => flags.includes('<'))
    .map(([flags]) => flags.split(' ')[0]!),
);

/** Whether the command line names a command, i.e. has a word that is not an option or an option's value. */
function namesCommand(argv: string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-')) return true;
    if (VALUED.has(a)) i++;
  }
  return false;
}

/**
 * MCP clients launch a server as `npx -y mailgate` (maybe with options) with stdin a pipe: with no command that
 * is `serve`, not help on stdout, which the client would read as a broken handshake and report only as
 * "Connection closed". A person at a terminal gets the help. `help mailbox create` is `mailbox create --help`
 * (commander's help command looks one level down only).
 */
function withDefaultCommand(argv: string[]): string[] {
  if (argv[0] === 'help' && argv.length > 1) return [...argv.slice(1), '--help'];
  if (namesCommand(argv) || argv.some((a) => a === '-h' || a === '--help' || a === '--version')) return argv;
  if (process.stdin.isTTY) return argv.length ? argv : ['help'];
  return ['serve', ...argv];
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = buildProgram(async (inv) => {
    code = await runCommand(inv);
  });
  const args = withDefaultCommand(argv);
  // `mailgate help | head` closes the pipe early: that is the reader's choice, not a crash. (serve's stdout is
  // the MCP transport, whose end the server handles itself.)
  if (args[0] !== 'serve') process.stdout.on('error', (err: NodeJS.ErrnoException) => err.code === 'EPIPE' && process.exit(0));
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    // Help and --version end the parse with commander's own "error"; help shown for a wrong command line
    // (a group without its subcommand) went to stderr and is a usage error.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return code;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const e = err instanceof MailgateError ? err : toMailgateError(err);
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
