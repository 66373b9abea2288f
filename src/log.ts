/**
 * Logs on stderr only: stdout belongs to the MCP transport. JSON lines (`{"level","ts","msg",...fields}`) for
 * machines and log collectors, or one readable line per event for a person at a terminal (issue 12). Values
 * under secret-looking keys are redacted before pino sees them.
 *
 * pino writes synchronously to fd 2, never through a worker-thread transport: a transport adds start-up time to
 * every CLI command, and a synchronous write is on stderr before `process.exit` (shutdown, a failed start).
 */
import { createRequire } from 'node:module';
import { type Logger, pino } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty' | 'auto';

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];
const FORMATS: readonly LogFormat[] = ['json', 'pretty', 'auto'];
/**
 * pino's `redact` takes exact paths, but a secret can sit under any key at any depth (an account's `pass`, a
 * nested `authorization` header), so the key pattern runs as a pass over the fields before pino serialises them.
 */
const SECRET_KEY = /pass(word)?|secret|token|authorization|api[_-]?key|credential/i;

const envLevel = process.env.MAILGATE_LOG_LEVEL;
const envFormat = process.env.MAILGATE_LOG_FORMAT;
// An unknown value must not stop the server (or make pino throw at the first line): the default stands.
let threshold: Level = LEVELS.includes(envLevel as Level) ? (envLevel as Level) : 'info';
let format: LogFormat = FORMATS.includes(envFormat as LogFormat) ? (envFormat as LogFormat) : 'auto';
let logger: Logger | undefined;

export function setLogLevel(level: Level): void {
  threshold = level;
  if (logger) logger.level = level;
}

/** `--log-format`: `auto` is readable lines when stderr is a terminal and JSON lines otherwise. */
export function setLogFormat(next: LogFormat): void {
  format = next;
  logger = undefined; // rebuilt with the new output at the next line
}

function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

export function log(level: Level, msg: string, fields: Record<string, unknown> = {}): void {
  if (LEVELS.indexOf(level) < LEVELS.indexOf(threshold)) return;
  logger ??= createLogger();
  logger[level](redact(fields) as Record<string, unknown>, msg);
}

// pino itself is imported: in the bundle it costs a few milliseconds, where requiring its ~15 files from
// node_modules at the first line cost ~11 ms of every server's start-up. pino-pretty is required when used.
const load = createRequire(import.meta.url);

function createLogger(): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  const sink = pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level: threshold,
      messageKey: 'msg',
      // The line shape callers and tests parse: no pid/hostname, the level's name, an ISO `ts`.
      base: undefined,
      formatters: { level: (label) => ({ level: label }) },
      timestamp: () => `,"ts":"${new Date().toISOString()}"`,
    },
    pretty ? { write: prettyWriter(sink) } : sink,
  );
}

/** pino-pretty is loaded only when a person reads the logs, so a client-launched server never loads it. */
function prettyWriter(sink: { write(s: string): unknown }): (line: string) => void {
  const { prettyFactory } = load('pino-pretty') as { prettyFactory: (o: PrettyOptions) => (line: string) => string };
  const format = prettyFactory({
    colorize: process.stderr.isTTY === true && !('NO_COLOR' in process.env),
    messageKey: 'msg',
    timestampKey: 'ts',
    translateTime: 'SYS:HH:MM:ss',
    // One line per event: the fields follow the message as key=value, not as an indented JSON block.
    hideObject: true,
    messageFormat: (entry, key) => [String(entry[key] ?? ''), ...fieldsOf(entry)].join('  '),
  });
  return (line) => void sink.write(format(line));
}

function fieldsOf(entry: Record<string, unknown>): string[] {
  return Object.entries(entry)
    .filter(([k]) => k !== 'level' && k !== 'ts' && k !== 'msg')
    .map(([k, v]) => `${k}=${typeof v === 'string' && /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)}`);
}
