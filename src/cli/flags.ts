/**
 * Which flags each command takes. node:util parseArgs knows only the union of every command's flags, so a flag
 * that belongs to another command (`token create --mailbox X` before tokens were bound to mailboxes) was parsed
 * and silently ignored. A flag the command does not take is refused here, naming the ones it does.
 */
import { MailgateError } from '../errors.js';

/** Every command takes these. */
const COMMON = ['config', 'db', 'json', 'as', 'help', 'version'] as const;

const MODE = ['mode', 'autonomy-level', 'approval-mode', 'rules', 'ttl', 'display-name'];

/** Keyed by `command` or `command subcommand`; a command with subcommands lists its default under `command`. */
export const COMMAND_FLAGS: Readonly<Record<string, readonly string[]>> = {
  serve: ['role', 'mailbox', 'dashboard', 'port'],
  'serve --http': ['http', 'host', 'port', 'allow-origin', 'allow-host', 'first-run'],
  demo: [],
  doctor: [],
  mailbox: [],
  'mailbox list': [],
  'mailbox create': MODE,
  'mailbox update': [...MODE, 'reason'],
  'mailbox resume': ['reason'],
  resolve: ['delivered', 'not-delivered', 'reason'],
  pending: ['mailbox', 'limit', 'cursor'],
  approve: ['note'],
  reject: ['reason'],
  audit: ['message', 'mailbox', 'limit'],
  'audit verify': ['anchor'],
  'audit export': ['mailbox', 'since', 'out'],
  captured: ['limit'],
  'policy test': ['mailbox', 'to', 'cc', 'bcc', 'subject', 'text', 'html', 'file'],
  'suppress add': ['mailbox', 'reason'],
  'suppress remove': ['mailbox', 'reason'],
  'suppress list': ['mailbox', 'limit'],
  erase: ['reason'],
  token: [],
  'token create': ['role', 'name', 'mailbox', 'all-mailboxes'],
  'token list': [],
  'token revoke': [],
  webhook: [],
  'webhook add': ['secret', 'events', 'mailbox', 'allow-private-network'],
  'webhook list': [],
  'webhook remove': ['reason'],
  'webhook secret': [],
  db: ['verify'],
  'db status': ['verify'],
  'db migrate': [],
  'db copy': ['from', 'to'],
};

/** Flags that may be given more than once; every other one at most once. */
const REPEATABLE: Readonly<Record<string, readonly string[]>> = { serve: ['mailbox'], 'token create': ['mailbox'] };

/** The key of COMMAND_FLAGS for this command line: its subcommand when it has that entry, else the command. */
export function commandKey(command: string, sub: string | undefined, http: boolean): string {
  if (command === 'serve') return http ? 'serve --http' : 'serve';
  if (sub !== undefined && COMMAND_FLAGS[`${command} ${sub}`]) return `${command} ${sub}`;
  return command;
}

/**
 * Refuses flags the command does not take, and repeats of flags it takes once. Unknown commands are left to
 * the dispatcher, which names the known ones.
 */
export function checkFlags(key: string, values: Record<string, unknown>): void {
  const allowed = COMMAND_FLAGS[key];
  if (!allowed) return;
  const takes = new Set<string>([...COMMON, ...allowed]);
  const command = `mailgate ${key}`;
  for (const [flag, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (!takes.has(flag)) {
      const own = allowed.length ? allowed.map((f) => `--${f}`).join(', ') : 'none of its own';
      throw new MailgateError('INVALID_INPUT', `--${flag}: '${command}' does not take --${flag} (its options: ${own}); run 'mailgate help'`, {
        field: `--${flag}`,
      });
    }
    if (Array.isArray(value) && value.length > 1 && !(REPEATABLE[key] ?? []).includes(flag)) {
      throw new MailgateError('INVALID_INPUT', `--${flag}: given ${value.length} times; '${command}' takes it once`, { field: `--${flag}` });
    }
  }
}
