/**
 * `mailgate init`: adds a real mailbox to a config file, asking on a terminal or taking every answer from
 * flags with `--yes`. It tests the IMAP and SMTP login as `mailgate doctor` does before writing, never writes
 * the password (only where it comes from), and ends with the MCP client configuration to paste.
 * Exit codes: 0 written; 1 the connection test failed, or the person declined (nothing written); 130 Ctrl+C at a
 * question; thrown INVALID_INPUT / CONFIG_INVALID (exit 2) a flag or the existing file is wrong, MAILBOX_EXISTS (1).
 */
import { resolve } from 'node:path';
import { MailgateError } from '../errors.js';
import { PRESETS } from '../config/presets.js';
import { type ConnectionTest, checkMailboxEntry, defaultConfigPath, planMailboxChange, saveMailbox, testMailbox } from '../services/setup.js';
import { answersFromFlags, entryFor, type InitAnswers, type InitFlags, readFlags, secretVariables } from './init-answers.js';
import { Prompter, type Terminal } from './init-prompts.js';
import { checkClient, clientSnippets } from './init-snippet.js';

/** As doctor's: long enough for a distant server's greeting, short enough that a dropped port does not stall init. */
const TIMEOUT_MS = 5000;

/**
 * `terminal` is where the questions go; without it, stdin and stdout when stdin is a terminal. Tests pass a
 * stream pair to answer the prompts as a person would.
 */
export async function initCommand(values: Record<string, unknown>, env: NodeJS.ProcessEnv, terminal?: Terminal): Promise<number> {
  const f = readFlags(values);
  const file = resolve(f.config ?? defaultConfigPath(env));
  if (f.yes) return nonInteractive(f, file, env);
  const term = terminal ?? (process.stdin.isTTY ? { input: process.stdin, output: process.stdout } : undefined);
  if (!term) {
    // A prompt on a pipe would wait forever for an answer that never comes.
    throw new MailgateError(
      'INVALID_INPUT',
      "--yes: stdin is not a terminal, so 'mailgate init' cannot ask its questions; pass --yes with the answers as flags: " +
        '--address A --provider P (--password-env VAR | --password-file F) [--user U] [--mode M] [--imap-host H --smtp-host H ...]',
      { field: '--yes' },
    );
  }
  const p = new Prompter(term);
  try {
    return await interactive(f, file, env, p);
  } catch (err) {
    // Ctrl+C at a question: the person stopped, which is no failure of mailgate's.
    if ((err as Error)?.name !== 'ExitPromptError') throw err;
    p.say(`\nstopped; nothing was written to ${file}`);
    return 130;
  }
}

async function nonInteractive(f: InitFlags, file: string, env: NodeJS.ProcessEnv): Promise<number> {
  const answers = answersFromFlags(f);
  const client = checkClient(f.client);
  const entry = entryFor(answers);
  const parsed = checkMailboxEntry(entry);
  const plan = planMailboxChange(file, entry, f.force);
  const say = (t: string) => void process.stdout.write(`${t}\n`);
  if (f.test) {
    const unset = secretVariables(answers.secret).find((v) => !env[v]);
    if (unset !== undefined) {
      const s = answers.secret;
      const flag = s.kind === 'env' ? '--password-env' : s.kind === 'oauth2' && unset === s.clientSecretEnv ? '--client-secret-env' : '--refresh-token-env';
      throw new MailgateError('INVALID_INPUT', `${flag}: ${unset} is not set, so the connection cannot be tested; set it for this command, or pass --no-test`, {
        field: flag,
      });
    }
    const result = await testMailbox(parsed, plan.index, env, TIMEOUT_MS);
    report(result, say);
    if (!result.ok) {
      say(`nothing was written to ${file}; fix the settings above and run init again (or pass --no-test to skip the test)`);
      return 1;
    }
  }
  finish(answers, file, saveMailbox(file, entry, f.force), client, say);
  return 0;
}

async function interactive(f: InitFlags, file: string, env: NodeJS.ProcessEnv, p: Prompter): Promise<number> {
  p.say(`mailgate init: adds a mailbox to ${file}`);
  const address = await p.address(f);
  let force = f.force;
  if (!force && alreadyListed(file, address)) {
    if (!(await p.replace(address, file))) {
      p.say('nothing was changed');
      return 1;
    }
    force = true;
  }
  const answers = await p.rest(f, address);
  const entry = entryFor(answers);
  const parsed = checkMailboxEntry(entry);
  const plan = planMailboxChange(file, entry, force);
  if (f.test) {
    const testEnv = await secretForTest(answers, env, p);
    if (testEnv) {
      p.say('Testing the connection...');
      const result = await testMailbox(parsed, plan.index, testEnv, TIMEOUT_MS);
      report(result, (t) => p.say(t));
      if (!result.ok && !(await p.writeAnyway())) {
        p.say(`nothing was written to ${file}`);
        return 1;
      }
    } else p.say(skippedTest(answers));
  }
  const client = await p.client(f);
  finish(answers, file, saveMailbox(file, entry, force), client, (t) => p.say(t));
  return 0;
}

/**
 * The environment to test with. A variable not set in init's own environment is asked for once, masked, and
 * kept only in this copy for the test: the person sets it in the MCP client's env block, not here.
 */
async function secretForTest(a: InitAnswers, env: NodeJS.ProcessEnv, p: Prompter): Promise<NodeJS.ProcessEnv | undefined> {
  // An OAuth2 refresh token comes from `mailgate oauth login`, not from memory: without it there is nothing to test.
  if (a.secret.kind === 'oauth2') return secretVariables(a.secret).every((v) => env[v]) ? env : undefined;
  if (a.secret.kind !== 'env' || env[a.secret.name]) return env;
  const typed = await p.testPassword(a.secret.name);
  return typed === '' ? undefined : { ...env, [a.secret.name]: typed };
}

function skippedTest(a: InitAnswers): string {
  const vars = secretVariables(a.secret);
  const how = a.secret.kind === 'oauth2' ? " ('mailgate oauth login' gets the refresh token)" : '';
  return `Connection test skipped; run 'mailgate doctor' once ${vars.join(' and ')} ${vars.length > 1 ? 'are' : 'is'} set${how}.`;
}

/**
 * Whether the file lists the address already. Asked right after the address, so a file init cannot add to
 * (CONFIG_INVALID) is reported before the person answers the rest.
 */
function alreadyListed(file: string, address: string): boolean {
  try {
    planMailboxChange(file, { address }, false);
    return false;
  } catch (err) {
    if (err instanceof MailgateError && err.code === 'MAILBOX_EXISTS') return true;
    throw err;
  }
}

function report(result: ConnectionTest, say: (t: string) => void): void {
  for (const c of result.checks) say(`${c.ok ? '✓' : '✗'} ${c.check}: ${c.detail.split('\n')[0]}${c.fix ? `; fix: ${c.fix}` : ''}`);
}

function finish(a: InitAnswers, file: string, change: ReturnType<typeof saveMailbox>, client: ReturnType<typeof checkClient>, say: (t: string) => void): void {
  const verb = change.replaced ? 'Replaced' : 'Added';
  say(`${verb} ${a.address} (${PRESETS[a.provider].label}, ${a.mode}) in ${file} as mailboxes[${change.index}]; the file is readable only by you.`);
  const s = a.secret;
  if (s.kind === 'oauth2') {
    say(`mailgate renews OAuth2 access tokens with the refresh token in ${s.refreshTokenEnv}; the config holds no secret.`);
    const secretFlag = s.clientSecretEnv ? ` --client-secret-env ${s.clientSecretEnv}` : '';
    say(`Get the refresh token with: mailgate oauth login --provider ${s.provider} --client-id ${s.clientId}${secretFlag} --login-hint ${a.address}`);
  } else {
    const where = s.kind === 'env' ? `the variable ${s.name}` : `the file ${s.path}`;
    say(`mailgate reads the password from ${where}; the config holds no password.`);
  }
  const advice = PRESETS[a.provider].secretAdvice;
  if (advice) say(`${PRESETS[a.provider].label}: ${advice}.`);
  say('');
  say(clientSnippets(client, file, a.secret));
  say('');
  const envHint = secretVariables(a.secret)
    .map((v) => `${v}=... `)
    .join('');
  say(`Check the setup at any time: ${envHint}mailgate doctor --config ${file}`);
}
