/**
 * The start-up check of `mailgate serve` (issue 12): a second after the MCP handshake (serve starts it), each real account's IMAP and SMTP
 * are tried in the background, the way `mailgate doctor` tries them, and each failure is logged with doctor's fix.
 * A person who never runs doctor then finds "port 993 expects TLS: set `secure: true`" in the server's log rather
 * than a stream of retries. It never delays the MCP handshake, never throws, and changes nothing.
 */
import type { LoadedConfig } from '../config/load.js';
import { log } from '../log.js';
import { checkAccounts } from './doctor.js';

/** Per connection step, as doctor's: long enough for a distant greeting, short enough to finish soon after start. */
const TIMEOUT_MS = 5000;

/**
 * Starts the check and returns at once; MAILGATE_NO_STARTUP_CHECK=1 turns it off (a server that must not open
 * extra connections, or a test that counts them). The promise it returns settles when every line is logged.
 */
export function startStartupCheck(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env.MAILGATE_NO_STARTUP_CHECK === '1' || loaded.accounts.size === 0) return Promise.resolve();
  return checkAccounts(loaded, TIMEOUT_MS).then(
    (checks) => {
      for (const c of checks) {
        if (c.ok) log('info', `start-up check: ${c.check} ok`, { detail: c.detail });
        else {
          log('warn', `start-up check: ${c.check} failed: ${c.fix ?? c.detail}`, {
            problem: c.detail,
            ...(c.fix ? { fix: c.fix } : {}),
            more: "run 'mailgate doctor' for every check",
          });
        }
      }
    },
    // A check that breaks must not take the server with it: the accounts are tried again on first use anyway.
    (err: unknown) => log('warn', 'start-up check could not run', { error: err instanceof Error ? err.message : String(err) }),
  );
}
