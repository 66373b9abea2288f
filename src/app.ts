/**
 * Wiring: open the store, apply the config file's mailboxes, and build the context every service gets.
 * The only place that knows which concrete store and transports are in use.
 */
import { EventEmitter } from 'node:events';
import type { LoadedConfig } from './config/load.js';
import type { MailboxConfig } from './config/schema.js';
import { MailgateError } from './errors.js';
import { parseSuppressionEntry } from './gate/canonical.js';
import { resolveMode } from './gate/modes.js';
import { log } from './log.js';
import { MailRegistry } from './mail/registry.js';
import type { AppContext } from './services/context.js';
import { DeliveryWorker, type WorkerOptions } from './services/deliver.js';
import { DEFAULT_PENDING_TTL_SECONDS } from './services/mailboxes.js';
import { syncConfigWebhooks } from './services/webhooks.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
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
  const transports = new MailRegistry(store, clock, loaded.accounts, () => changes.emit('change'));
  const worker = new DeliveryWorker(store, transports, clock, { ...workerTuning(process.env), ...opts.worker }, () => changes.emit('change'));
  if (opts.background) worker.start();
  const webhooks = new WebhookDispatcher(store, clock, { ...webhookTuning(process.env), ...opts.webhooks });
  // Events queued by this process go out at once; other processes' events are found by the poll.
  const stopWaking = store.onWebhookQueued(() => webhooks.wake());
  if (opts.background) webhooks.start();
  if (opts.watch) await transports.watchAll();
  const app: App = {
    store,
    clock,
    transports,
    worker,
    webhooks,
    changes,
    settings: { requireApproval: loaded.config.require_approval, toolNames: loaded.config.tool_names, policy: loaded.config.policy },
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
 * Creates the file's mailboxes and brings existing ones in line with it (the file wins at start; the change
 * is audited like any other). With no file, the default sandbox mailboxes are created only if missing, so a
 * mode an operator changed later is kept.
 */
async function applyConfig(store: Store, loaded: LoadedConfig, now: number): Promise<void> {
  const actor = loaded.source ? `config:${loaded.source}` : 'config:default';
  // Settings kept in the database follow the config file when one is given; a CLI run without the file (an
  // operator at a terminal) must not reset them to the defaults.
  if (loaded.source) {
    await store.setPersonalDataMode(loaded.config.audit_personal_data);
    await store.syncConfigSuppressions(loaded.config.suppress.map((e) => parseSuppressionEntry(e)!), actor, now);
  }
  await store.setContactLists(loaded.config.contact_lists);
  for (const mb of loaded.config.mailboxes) {
    const wanted = desiredMailbox(mb);
    const existing = await store.getMailbox(wanted.address);
    if (!existing) {
      try {
        await store.createMailbox(wanted, actor, now);
        log('info', 'mailbox created from config', { address: wanted.address, mode: wanted.oversight_mode });
      } catch (err) {
        // Another process starting on the same fresh database created it first: that is the wanted state.
        if (!(err instanceof MailgateError && err.code === 'MAILBOX_EXISTS')) throw err;
      }
    } else if (loaded.source) {
      const r = await store.updateMailbox(wanted.address, {
        display_name: wanted.display_name, oversight_mode: wanted.oversight_mode, mode_source: wanted.mode_source,
        auto_approve_rules: wanted.auto_approve_rules, pending_ttl_seconds: wanted.pending_ttl_seconds, transport: wanted.transport,
        policy: wanted.policy,
      }, actor, 'applied from the config file at start', now);
      if (r.changed.length) log('info', 'mailbox updated from config', { address: wanted.address, changed: r.changed });
    }
  }
  // Like mailboxes: without a file (the built-in default) the endpoints a file set earlier are left alone.
  if (loaded.source) await syncConfigWebhooks(store, loaded.config.webhooks, actor, now);
}

function desiredMailbox(mb: MailboxConfig) {
  const mode = resolveMode(mb);
  if (!mode.ok) throw new Error(`mailbox ${mb.address}: ${mode.field}: ${mode.message}`);
  return {
    address: mb.address,
    display_name: mb.display_name ?? null,
    oversight_mode: mode.value.mode,
    mode_source: mode.value.source,
    auto_approve_rules: mode.value.rules,
    pending_ttl_seconds: mb.pending_ttl ?? DEFAULT_PENDING_TTL_SECONDS,
    transport: mb.imap ? ('imap_smtp' as const) : ('sandbox' as const),
    policy: mb.policy ?? {},
  };
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
