/**
 * Wiring: open the store, apply the config file's mailboxes, and build the context every service gets.
 * The only place that knows which concrete store and transports are in use.
 */
import type { LoadedConfig } from './config/load.js';
import type { MailboxConfig } from './config/schema.js';
import { MailgateError } from './errors.js';
import { resolveMode } from './gate/modes.js';
import { log } from './log.js';
import type { Transport, TransportRegistry } from './mail/ports.js';
import { sandboxTransport } from './mail/sandbox.js';
import type { AppContext } from './services/context.js';
import { DeliveryWorker, type WorkerOptions } from './services/deliver.js';
import { DEFAULT_PENDING_TTL_SECONDS } from './services/mailboxes.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface AppOptions {
  clock?: () => number;
  worker?: WorkerOptions;
  /** Start the background delivery loop (servers do; one-shot CLI commands deliver inline instead). */
  background?: boolean;
}

export interface App extends AppContext {
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
  const transports = sandboxRegistry(store, clock);
  const worker = new DeliveryWorker(store, transports, clock, opts.worker);
  if (opts.background) worker.start();
  const app: App = {
    store,
    clock,
    transports,
    worker,
    settings: { requireApproval: loaded.config.require_approval, toolNames: loaded.config.tool_names },
    async close() {
      await worker.stop();
      await transports.close();
      await store.close();
    },
  };
  return app;
}

function sandboxRegistry(store: Store, clock: () => number): TransportRegistry {
  let sandbox: Transport | undefined;
  return {
    forMailbox(mailbox) {
      if (mailbox.transport !== 'sandbox') throw new Error(`mailbox ${mailbox.address} uses ${mailbox.transport}, which this version cannot reach`);
      return (sandbox ??= sandboxTransport(store, clock));
    },
    async close() {},
  };
}

/**
 * Creates the file's mailboxes and brings existing ones in line with it (the file wins at start; the change
 * is audited like any other). With no file, the default sandbox mailboxes are created only if missing, so a
 * mode an operator changed later is kept.
 */
async function applyConfig(store: Store, loaded: LoadedConfig, now: number): Promise<void> {
  const actor = loaded.source ? `config:${loaded.source}` : 'config:default';
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
      }, actor, 'applied from the config file at start', now);
      if (r.changed.length) log('info', 'mailbox updated from config', { address: wanted.address, changed: r.changed });
    }
  }
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
    transport: 'sandbox' as const,
  };
}
