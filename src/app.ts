/**
 * Wiring: open the store, apply the config file (src/services/config-apply.ts), and build the context every service gets.
 * The only place that knows which concrete store and transports are in use.
 */
import { EventEmitter } from 'node:events';
import type { LoadedConfig } from './config/load.js';
import { MailgateError } from './errors.js';
import { MailRegistry } from './mail/registry.js';
import { watchInboxes } from './services/inbox-cache.js';
import { sandboxTransport } from './services/sandbox.js';
import type { AppContext } from './services/context.js';
import { DeliveryWorker, type WorkerOptions } from './services/deliver.js';
import { applyConfig } from './services/config-apply.js';
import { SqliteStore } from './store/sqlite-store.js';
import { type DispatcherOptions, WebhookDispatcher } from './webhooks/dispatcher.js';

export interface AppOptions {
  clock?: () => number;
  worker?: WorkerOptions;
  /** Start the background delivery loop (servers do; one-shot CLI commands deliver inline instead). */
  background?: boolean;
  /**
   * Watch real INBOXes with IDLE (agent servers, whose mail_wait and check_inbox use it). Each watcher is one
   * more IMAP connection per account, and servers limit those (Dovecot: 10 per user and IP by default).
   */
  watch?: boolean;
  /** Webhook dispatcher tuning (over the MAILGATE_WEBHOOK_* environment); it runs when `background` is set. */
  webhooks?: DispatcherOptions;
}

export interface App extends AppContext {
  webhooks: WebhookDispatcher;
  close(): Promise<void>;
}

export async function createApp(loaded: LoadedConfig, opts: AppOptions = {}): Promise<App> {
  const clock = opts.clock ?? Date.now;
  const store = new SqliteStore(loaded.databasePath);
  try {
    await applyConfig(store, loaded, clock());
  } catch (err) {
    await store.close();
    throw err;
  }
  const changes = new EventEmitter();
  changes.setMaxListeners(0); // one listener per concurrent mail_wait
  const transports = new MailRegistry(loaded.accounts, sandboxTransport(store, clock));
  const worker = new DeliveryWorker(store, transports, clock, { ...workerTuning(process.env), ...opts.worker }, () => changes.emit('change'));
  if (opts.background) worker.start();
  const webhooks = new WebhookDispatcher(store, clock, { ...webhookTuning(process.env), ...opts.webhooks });
  // Events queued by this process go out at once; other processes' events are found by the poll.
  const stopWaking = store.onWebhookQueued(() => webhooks.wake());
  if (opts.background) webhooks.start();
  if (opts.watch) await watchInboxes(store, clock, transports, () => changes.emit('change'));
  const app: App = {
    store,
    clock,
    transports,
    worker,
    webhooks,
    changes,
    settings: {
      requireApproval: loaded.config.require_approval,
      toolNames: loaded.config.tool_names,
      policy: loaded.config.policy,
      allowShortTtl: loaded.config.testing.allow_short_ttl,
      confirmWith: loaded.config.approvals.confirm_with,
    },
    async close() {
      stopWaking();
      await webhooks.stop();
      await worker.stop();
      await transports.close();
      await store.close();
    },
  };
  return app;
}

/**
 * Delivery tuning from the environment (documented in README, "Tuning"): the lease a worker holds while
 * delivering, how often it polls, and the first retry delay. Tests shorten them; the defaults suit servers.
 */
export function envMs(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new MailgateError('CONFIG_INVALID', `${name} must be a positive number of milliseconds`);
  return n;
}

function workerTuning(env: NodeJS.ProcessEnv): WorkerOptions {
  const num = (name: string) => envMs(env, name);
  const out: WorkerOptions = {};
  const lease = num('MAILGATE_DELIVERY_LEASE_MS');
  const poll = num('MAILGATE_DELIVERY_POLL_MS');
  const backoff = num('MAILGATE_RETRY_BASE_MS');
  if (lease) out.leaseMs = lease;
  if (poll) out.pollMs = poll;
  if (backoff) out.baseBackoffMs = backoff;
  return out;
}

/** Webhook dispatcher tuning from the environment (README, "Tuning"); tests shorten the schedule. */
function webhookTuning(env: NodeJS.ProcessEnv): DispatcherOptions {
  const entries = {
    pollMs: envMs(env, 'MAILGATE_WEBHOOK_POLL_MS'),
    leaseMs: envMs(env, 'MAILGATE_WEBHOOK_LEASE_MS'),
    timeoutMs: envMs(env, 'MAILGATE_WEBHOOK_TIMEOUT_MS'),
    retryBaseMs: envMs(env, 'MAILGATE_WEBHOOK_RETRY_BASE_MS'),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}
