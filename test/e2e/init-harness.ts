/**
 * Runs `mailgate init` as its own process: a small script imports the built initCommand and reports as the CLI
 * does (`mailgate: CODE: message` on stderr, exit 2 for bad input or config, 1 for a failed test). Until main.ts
 * dispatches `init`, this is the command line; the flags are passed exactly as a parser hands them to
 * initCommand, so the tests hold once `mailgate init ...` reaches it.
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { type CliResult, childEnv, ROOT } from './harness.js';

const SCRIPT = `
const [values, module] = JSON.parse(process.argv[1]);
const { initCommand } = await import(module);
try {
  process.exitCode = await initCommand(values, process.env);
} catch (e) {
  process.stderr.write('mailgate: ' + (e.code ?? 'INTERNAL') + ': ' + e.message + '\\n');
  process.exitCode = e.code === 'INVALID_INPUT' || e.code === 'CONFIG_INVALID' ? 2 : 1;
}
`;

/** `values` as the parser gives them: `{ yes: true, address: 'a@b', 'password-env': 'X', ... }`. */
export function runInit(
  values: Record<string, unknown>,
  o: { home: string; env?: Record<string, string>; timeoutMs?: number; stdin?: 'pipe' | 'closed' },
): Promise<CliResult> {
  const module = pathToFileURL(join(ROOT, 'dist/src/cli/init.js')).href;
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, JSON.stringify([values, module])], {
      cwd: ROOT,
      env: childEnv(o.home, o.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += stripVTControlCharacters(c.toString('utf8'))));
    child.stderr.on('data', (c: Buffer) => (stderr += stripVTControlCharacters(c.toString('utf8'))));
    // 'pipe' leaves stdin open, as a script that pipes into init would: a prompt there would wait forever.
    if (o.stdin !== 'pipe') child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 20_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolveRun({ code, stdout, stderr });
    });
  });
}

export function readJson(file: string): { mailboxes: Record<string, unknown>[] } & Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8'));
}

export function fileMode(file: string): number {
  return statSync(file).mode & 0o777;
}

/**
 * A terminal for initCommand's prompts, driven as a person would: wait until a question shows, then type.
 * Waiting on the question (not a fixed delay) means a keystroke never reaches the prompt before it listens.
 */
export function scriptedTerminal() {
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.on('data', (c: Buffer) => (screen += stripVTControlCharacters(c.toString('utf8'))));
  return {
    terminal: { input, output },
    ...driver(
      () => screen,
      (keys) => input.write(keys),
    ),
  };
}

/**
 * `mailgate init` in a real pseudo-terminal (util-linux `script`), so stdin is a TTY as at a person's shell:
 * the path where init decides by itself to ask its questions.
 */
export function initInPty(values: Record<string, unknown>, o: { home: string; env?: Record<string, string> }) {
  const runner = join(o.home, 'init-runner.mjs');
  writeFileSync(runner, SCRIPT.replace('process.argv[1]', 'process.env.INIT_TEST_ARGS'));
  const module = pathToFileURL(join(ROOT, 'dist/src/cli/init.js')).href;
  const command = `'${process.execPath}' '${runner}'`;
  const child = spawn('script', ['-qefc', command, '/dev/null'], {
    cwd: ROOT,
    env: childEnv(o.home, { ...o.env, INIT_TEST_ARGS: JSON.stringify([values, module]), TERM: 'xterm', COLUMNS: '200' }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  const add = (c: Buffer) => (screen += stripVTControlCharacters(c.toString('utf8')));
  child.stdout.on('data', add);
  child.stderr.on('data', add);
  const exited = new Promise<number | null>((r) => child.on('close', r));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return {
    ...driver(
      () => screen,
      (keys) => child.stdin.write(keys),
    ),
    async exit(): Promise<number | null> {
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function driver(screen: () => string, type: (keys: string) => void) {
  let seen = 0;
  return {
    /** Everything shown so far, without colours and cursor movement. */
    screen,
    async answer(question: string, keys: string, timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const at = screen().indexOf(question, seen);
        if (at >= 0) {
          seen = at + question.length;
          break;
        }
        if (Date.now() > deadline) throw new Error(`no question '${question}' within ${timeoutMs} ms; the screen shows:\n${screen().slice(seen)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      type(keys);
    },
  };
}

export const KEY = { enter: '\r', down: '\x1b[B' } as const;
