/**
 * The argument parser: commander, built from the command table in spec.ts. commander gives per-command
 * `--help`, `mailgate help <command>` and "did you mean" suggestions; this file turns its errors into the one
 * error catalogue (INVALID_INPUT, exit 2, naming the flag and the command) and hands a parsed command line to
 * `run` only once every flag and argument is known to belong to the command, so a mistyped command line never
 * opens (or creates) a database.
 */
import { Command, type Help, Option } from 'commander';
import { MailgateError } from '../errors.js';
import { COMMANDS, type CommandSpec, GLOBAL_OPTIONS, GROUPS, type OptionSpec } from './spec.js';

const VERSION = '0.1.0';

/** A command line the parser accepted: `values` keyed by flag name (`all-mailboxes`), `args` the positionals. */
export interface Invocation {
  path: string;
  args: string[];
  values: Record<string, unknown>;
}

const FOOTER = `
Run 'mailgate <command> --help' (or 'mailgate help <command>') for a command's options.
With no config, mailgate uses a built-in sandbox: agent@mailgate.test (gated_send) and you@mailgate.test (autonomous).
`;

/** commander's error() is where every parse error ends up; ours throws a catalogued error instead of exiting. */
class Cli extends Command {
  override createCommand(name?: string): Cli {
    return new Cli(name);
  }
  override error(message: string, opts?: { code?: string; exitCode?: number }): never {
    throw usageError(this, message.replace(/^error: /, ''), opts?.code ?? '');
  }
}

export function buildProgram(run: (inv: Invocation) => Promise<void>): Command {
  const program = new Cli('mailgate')
    .usage('<command> [options]')
    .description('an MCP email server where a human keeps control')
    .version(VERSION, '--version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .configureHelp({
      // A pipe has no width; 120 keeps one command per line there rather than wrapping at commander's 80.
      helpWidth: process.stdout.columns || 120,
      showGlobalOptions: true,
      formatHelp: (cmd, helper) => (cmd.parent ? defaultHelp(cmd, helper) : rootHelp(cmd, helper)),
    });
  for (const o of GLOBAL_OPTIONS) program.addOption(option(o));
  const groups = new Map<string, Command>();
  for (const g of GROUPS) groups.set(g.name, program.command(g.name).description(g.summary));
  for (const spec of COMMANDS) {
    const [head, sub] = spec.path.split(' ') as [string, string | undefined];
    const parent = sub === undefined ? program : groups.get(head)!;
    const isDefault = sub !== undefined && GROUPS.find((g) => g.name === head)?.fallback === sub;
    const cmd = parent.command(sub ?? head, { isDefault }).description(spec.summary);
    if (spec.details) cmd.addHelpText('after', `\n${spec.details}`);
    for (const a of spec.args ?? []) cmd.argument(a);
    for (const o of spec.options ?? []) cmd.addOption(option(o));
    cmd.action(async (...params: unknown[]) => {
      const self = params.at(-1) as Command;
      const args = (self.processedArgs as unknown[]).filter((a): a is string => typeof a === 'string');
      await run({ path: spec.path, args, values: valuesOf(self, spec) });
    });
  }
  return program;
}

/** Values are collected, so a flag given twice is seen (and refused unless the command repeats it). */
function option([flags, description]: OptionSpec): Option {
  const o = new Option(flags, description);
  if (o.required || o.optional) o.argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
  return o;
}

function keyOf(o: Option): string {
  const long = o.long ?? '';
  return o.negate ? long.slice('--no-'.length) : long.slice(2);
}

/** The command's own options and the global ones, keyed by flag name, each at most once unless repeatable. */
function valuesOf(cmd: Command, spec: CommandSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let root = cmd;
  while (root.parent) root = root.parent;
  for (const [from, options] of [
    [cmd, cmd.options],
    [root, root.options],
  ] as const) {
    for (const o of options) {
      const key = keyOf(o);
      if (key === 'help' || key === 'version') continue;
      const v = from.getOptionValue(o.attributeName());
      if (v === undefined) continue;
      if (Array.isArray(v) && v.length > 1 && !spec.repeatable?.includes(key)) {
        throw new MailgateError('INVALID_INPUT', `--${key}: given ${v.length} times; 'mailgate ${spec.path}' takes it once`, { field: `--${key}` });
      }
      out[key] = Array.isArray(v) && !spec.repeatable?.includes(key) ? v[0] : v;
    }
  }
  return out;
}

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return ['mailgate', ...names].join(' ');
}

const quoted = (text: string): string | undefined => /'([^']+)'/.exec(text)?.[1];

function orList(names: string[]): string {
  return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : (names[0] ?? '');
}

/** commander's message, reworded to name the flag and the command, with its suggestion kept. */
function usageError(cmd: Command, text: string, code: string): MailgateError {
  const where = pathOf(cmd);
  const hint = /\(Did you mean (.+)\?\)/.exec(text)?.[1];
  const mean = hint ? `; did you mean ${hint}` : '';
  const fail = (message: string, field?: string) => new MailgateError('INVALID_INPUT', message, field ? { field } : {});
  switch (code) {
    case 'commander.unknownOption': {
      const flag = quoted(text) ?? text;
      const own = cmd.options.map((o) => o.long).filter((l): l is string => !!l && l !== '--help');
      const its = own.length ? own.join(', ') : 'none of its own';
      return fail(`${flag}: '${where}' does not take ${flag} (its options: ${its})${mean}; see '${where} --help'`, flag);
    }
    case 'commander.unknownCommand':
      if (!cmd.parent) return fail(`unknown command '${quoted(text)}'${mean}; run 'mailgate help'`);
      return unknownSub(cmd, quoted(text) ?? '', mean);
    case 'commander.excessArguments': {
      // A group's default subcommand (`mailgate db vacuum` runs `db status` with 'vacuum') got a misspelt name.
      const parent = cmd.parent;
      if (parent?.parent && (parent as unknown as { _defaultCommandName?: string })._defaultCommandName === cmd.name() && !cmd.registeredArguments.length) {
        // The group's own unknown-command error carries commander's suggestion ("did you mean create").
        (parent as unknown as { unknownCommand(): never }).unknownCommand();
      }
      const extra = cmd.args.slice(cmd.registeredArguments.length);
      return fail(`'${where}' takes ${cmd.registeredArguments.length || 'no'} argument(s); got '${extra.join(' ')}' too; see '${where} --help'`);
    }
    case 'commander.missingArgument': {
      const name = quoted(text) ?? 'argument';
      return fail(`${name}: missing; use '${where} ${cmd.usage()}'`, name);
    }
    case 'commander.optionMissingArgument': {
      const flag = (quoted(text) ?? '').split(' ')[0] ?? '';
      return fail(`${flag}: needs a value; see '${where} --help'`, flag);
    }
    default:
      return fail(`${text}; see '${where} --help'`);
  }
}

function unknownSub(group: Command, name: string, mean: string): MailgateError {
  const subs = group.commands.map((c) => c.name()).filter((n) => n !== 'help');
  const where = pathOf(group);
  return new MailgateError('INVALID_INPUT', `unknown subcommand '${name}'; use ${orList(subs)}${mean}; see '${where} --help'`);
}

function defaultHelp(cmd: Command, helper: Help): string {
  return Object.getPrototypeOf(helper).formatHelp.call(helper, cmd, helper);
}

/** Every command on one page, subcommands spelt out (`mailbox create <address>`), then the global options. */
function rootHelp(root: Command, helper: Help): string {
  const usage = (s: CommandSpec) => [s.path, ...(s.args ?? []), s.options?.length ? '[options]' : ''].filter(Boolean).join(' ');
  const items = COMMANDS.map((s) => [usage(s), s.summary] as const);
  const globals = root.options.map((o) => [o.flags, o.description] as const);
  const width = Math.min(36, Math.max(...[...items, ...globals].map(([t]) => t.length)));
  const list = (rows: readonly (readonly [string, string])[]) => rows.map(([t, d]) => helper.formatItem(t, width, d, helper)).join('\n');
  return [
    'mailgate: an MCP email server where a human keeps control',
    '',
    'Usage: mailgate <command> [options]',
    '       mailgate [serve options]   with stdin not a terminal (an MCP client launching it): same as serve',
    '',
    'Commands:',
    list(items),
    '',
    'Options (every command):',
    list(globals),
    FOOTER,
  ].join('\n');
}
