/**
 * Wiring: open the store, apply the config file (src/services/config-apply.ts), and build the context every service gets.
 * The only place that knows which concrete store and transports are in use.
 */
import { EventEmitter } from 'node:events';
import type { LoadedConfig } from './config/load.js';
import { MailgateError } from './errors.js';
import { MailRegistry } from './mail/registry.js';
import { InboxWatchers, type WatchOptions } from './services/inbox-watch.js';
import { sandboxTransport } from './services/sandbox.js';
import type { AppContext } from './services/context.js';
import { DeliveryWorker, type WorkerOptions } from './services/deliver.js';
import { applyConfig } from './services/config-apply.js';
import { openStore } from './domain/open.js';
import type { Store, StoreChange } from './store/store.js';
import { type DispatcherOptions, WebhookDispatcher } from './webhooks/dispatcher.js';

// The database itself (`mailgate db`), for the CLI: these open a backend's driver and nothing else, no app.
// Loaded when called: they bring pg with them, which a SQLite server's start-up should not pay for.
export type { CopyReport } from './domain/db-copy.js';
export type { DatabaseStatus, MigrateResult } from './domain/db-admin.js';
type DbCopy = typeof import('./domain/db-copy.js');
type DbAdmin = typeof import('./domain/db-admin.js');
export const copyDatabase = async (...a: Parameters<DbCopy['copyDatabase']>) => (await import('./domain/db-copy.js')).copyDatabase(...a);
export const databaseStatus = async (...a: Parameters<DbAdmin['databaseStatus']>) => (await import('./domain/db-admin.js')).databaseStatus(...a);
export const migrateDatabase = async (...a: Parameters<DbAdmin['migrateDatabase']>) => (await import('./domain/db-admin.js')).migrateDatabase(...a);

export interface AppOptions {
  clock?: () => number;
  worker?: WorkerOptions;
  /** Start the background delivery loop (servers do; one-shot CLI commands deliver inline instead). */
  background?: boolean;
  /**
   * Watch real INBOXes with IDLE (agent servers, whose mail_wait and check_inbox use it). Each watcher is one
   * more IMAP connection per account, and servers limit those (Dovecot: 10 per user and IP by default), so only
   * the instance holding a mailbox's lease watches it (src/services/inbox-watch.ts).
   */
  watch?: boolean;
  /** Watcher lease tuning (over MAILGATE_WATCH_LEASE_MS). */
  watchLease?: WatchOptions;
  /** Webhook dispatcher tuning (over the MAILGATE_WEBHOOK_* environment); it runs when `background` is set. */
  webhooks?: DispatcherOptions;
}

export interface App extends AppContext {
  webhooks: WebhookDispatcher;
  /** The IMAP watchers this instance runs, when `watch` was set. */
  watchers: InboxWatchers | undefined;
  close(): Promise<void>;
}

export async function createApp(loaded: LoadedConfig, opts: AppOptions = {}): Promise<App> {
  const clock = opts.clock ?? Date.now;
  const store = await openStore(loaded.database);
  try {
    await applyConfig(store, loaded, clock());
  } catch (err) {
    await store.close();
    throw err;
  }
  const changes = new EventEmitter();
  changes.setMaxListeners(0); // one listener per concurrent mail_wait
  const transports = new MailRegistry(loaded.accounts, sandboxTransport(store, clock));
  // Servers hear every instance's changes (wake); a one-shot command only its own worker's outcomes, without
  // opening a LISTEN connection for the few moments it runs.
  const servers = !!(opts.background || opts.watch);
  const ownOutcomes = servers ? undefined : () => changes.emit('change');
  const worker = new DeliveryWorker(store, transports, clock, { ...workerTuning(process.env), ...opts.worker }, ownOutcomes);
  const webhooks = new WebhookDispatcher(store, clock, { ...webhookTuning(process.env), ...opts.webhooks });
  const watchers = opts.watch ? new InboxWatchers(store, clock, transports, { ...watchTuning(process.env), ...opts.watchLease }) : undefined;
  const stopWaking = servers
    ? wake(store, { worker, webhooks, watchers, changes })
    : // Events queued by this process go out at once, if its dispatcher runs at all.
      store.onWebhookQueued(() => webhooks.wake());
  if (opts.background) {
    worker.start();
    webhooks.start();
  }
  await watchers?.start();
  const app: App = {
    store,
    clock,
    transports,
    worker,
    webhooks,
    watchers,
    changes,
    settings: {
      requireApproval: loaded.config.require_approval,
      toolNames: loaded.config.tool_names,
      policy: loaded.config.policy,
      allowShortTtl: loaded.config.testing.allow_short_ttl,
      confirmWith: loaded.config.approvals.confirm_with,
      replyQuote: loaded.config.reply_quote,
    },
    async close() {
      // Watchers first: their leases are given up while the store is open, so another instance takes over now.
      await watchers?.stop();
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
 * How long a worker leaves another instance's newly deliverable mail to that instance, which ticks its own worker
 * at once (so its caller hears `sent`); one without the mailbox's account never claims it, and ours delivers it.
 */
const OTHERS_FIRST_MS = 250;

/**
 * Who hears what of the committed changes, this instance's own and (PostgreSQL) every other one's. The delivery
 * worker is woken only by others' mail, after OTHERS_FIRST_MS: this instance's services tick it themselves when
 * they queue or approve, and a second pass would slow their answer. A `resync` (signals may have been lost) wakes
 * everyone at once.
 */
function wake(store: Store, to: { worker: DeliveryWorker; webhooks: WebhookDispatcher; watchers: InboxWatchers | undefined; changes: EventEmitter }) {
  return store.onChange((c: StoreChange) => {
    const resync = c.topic === 'resync';
    if (resync) to.worker.wake();
    else if (c.topic === 'deliverable' && !c.local) to.worker.wake(OTHERS_FIRST_MS);
    if (resync || c.topic === 'webhook') to.webhooks.wake();
    if (resync || c.topic === 'lease') to.watchers?.poke();
    // mail_wait and the dashboard's live queue look again.
    if (resync || c.topic === 'outbound' || c.topic === 'inbox' || c.topic === 'mailbox') to.changes.emit('change', c);
  });
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

/** How long an IMAP watcher lease lasts unrenewed (MAILGATE_WATCH_LEASE_MS): a killed holder's mailboxes wait that long. */
function watchTuning(env: NodeJS.ProcessEnv): WatchOptions {
  const leaseMs = envMs(env, 'MAILGATE_WATCH_LEASE_MS');
  return leaseMs ? { leaseMs } : {};
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
