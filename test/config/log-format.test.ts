/**
 * The logger as a person and a log collector see it (issue 12): a real Node process imports the built
 * dist/src/log.js and logs. With stderr a pipe it writes JSON lines; under a pseudo-terminal (`script` from
 * util-linux) it writes readable lines and no JSON; MAILGATE_LOG_FORMAT and setLogFormat override the choice.
 * Secrets are redacted at any depth in both, stdout stays empty, and MAILGATE_LOG_LEVEL still filters.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, ROOT } from '../e2e/harness.js';

const tmp = tempDir('mailgate-log-format-');
const SECRET = 'Very-Secret-Pw-91';
let script = '';

/** Logs one line of each level; `--json` first switches to JSON as the CLI's --log-format flag will. */
function writeScript(): string {
  const file = tmp.file('emit.mjs');
  writeFileSync(
    file,
    `const { log, setLogFormat } = await import(${JSON.stringify(`${ROOT}/dist/src/log.js`)});
if (process.argv.includes('--json')) setLogFormat('json');
log('debug', 'debug line', { step: 1 });
log('info', 'mailbox ready', { address: 'a@example.com', imap: { user: 'a', password: '${SECRET}', nested: [{ access_token: '${SECRET}' }] } });
log('warn', 'careful now', { hint: 'port 993 expects TLS' });
log('error', 'it broke', { Authorization: 'Bearer ${SECRET}' });
`,
  );
  return file;
}

interface Run {
  stdout: string;
  stderr: string;
}

/** The parent's environment without its MAILGATE_* settings (vitest sets a log level), plus `env`. */
function envWith(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MAILGATE_') && k !== 'NO_COLOR') out[k] = v;
  return { ...out, ...env };
}

function run(command: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: envWith(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      resolve({ stdout, stderr });
    });
  });
}

/** stderr a pipe, stdout a pipe: what an MCP client or a log collector gives the process. */
const piped = (env: Record<string, string> = {}, extra: string[] = []) => run(process.execPath, [script, ...extra], env);
/** Under a pseudo-terminal: stdin, stdout and stderr are all the terminal, whose output `script` copies to its stdout. */
const onTerminal = async (env: Record<string, string> = {}, extra: string[] = []) =>
  (await run('script', ['-qec', [process.execPath, script, ...extra].join(' '), '/dev/null'], env)).stdout;

const lines = (text: string) => text.split(/\r?\n/).filter((l) => l.trim() !== '');
const isJsonLine = (l: string) => {
  try {
    return typeof JSON.parse(l) === 'object';
  } catch {
    return false;
  }
};
// biome-ignore lint/suspicious/noControlCharactersInRegex: the terminal's colour codes are what is stripped
const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');

beforeAll(() => {
  assertBuilt();
  script = writeScript();
});
afterAll(() => tmp.cleanup());

describe('log output', () => {
  it('writes JSON lines to a piped stderr, with secrets redacted at any depth, and nothing to stdout', async () => {
    const r = await piped();
    expect(r.stdout).toBe('');
    const entries = lines(r.stderr).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries.map((e) => e.level)).toEqual(['info', 'warn', 'error']);
    expect(entries[0]).toMatchObject({
      msg: 'mailbox ready',
      address: 'a@example.com',
      imap: { user: 'a', password: '[redacted]', nested: [{ access_token: '[redacted]' }] },
    });
    expect(entries[2]).toMatchObject({ msg: 'it broke', Authorization: '[redacted]' });
    for (const e of entries) expect(new Date(String(e.ts)).toISOString()).toBe(e.ts);
    expect(r.stderr).not.toContain(SECRET);
  });

  it('writes readable lines, no JSON, on a terminal, with the same redaction', async () => {
    const out = plain(await onTerminal());
    const got = lines(out);
    expect(got).toHaveLength(3);
    expect(got.some(isJsonLine)).toBe(false);
    expect(got[0]).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: mailbox ready {2}address=a@example\.com {2}imap=/);
    expect(got[1]).toMatch(/WARN: careful now {2}hint="port 993 expects TLS"/);
    expect(got[2]).toMatch(/ERROR: it broke {2}Authorization=\[redacted\]/);
    expect(out).not.toContain(SECRET);
  });

  it('MAILGATE_LOG_FORMAT and setLogFormat override what the terminal suggests', async () => {
    const json = lines(plain(await onTerminal({ MAILGATE_LOG_FORMAT: 'json' })));
    expect(json.length).toBe(3);
    expect(json.every(isJsonLine)).toBe(true);
    const flag = lines(plain(await onTerminal({}, ['--json'])));
    expect(flag.every(isJsonLine)).toBe(true);
    const pretty = await piped({ MAILGATE_LOG_FORMAT: 'pretty' });
    expect(pretty.stdout).toBe('');
    expect(lines(pretty.stderr).some(isJsonLine)).toBe(false);
    // No colour codes when stderr is not a terminal, even in pretty mode: the lines land in a file.
    expect(pretty.stderr).not.toContain('\x1b[');
    expect(pretty.stderr).toMatch(/INFO: mailbox ready/);
    expect(pretty.stderr).not.toContain(SECRET);
  });

  it('MAILGATE_LOG_LEVEL still chooses what is written, and an unknown value falls back to info', async () => {
    const levels = async (env: Record<string, string>) => lines((await piped(env)).stderr).map((l) => (JSON.parse(l) as { level: string }).level);
    expect(await levels({ MAILGATE_LOG_LEVEL: 'debug' })).toEqual(['debug', 'info', 'warn', 'error']);
    expect(await levels({ MAILGATE_LOG_LEVEL: 'error' })).toEqual(['error']);
    expect(await levels({ MAILGATE_LOG_LEVEL: 'loud' })).toEqual(['info', 'warn', 'error']);
  });
});
