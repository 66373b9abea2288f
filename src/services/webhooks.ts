/**
 * Managing webhook endpoints: operators add, list and remove them (the CLI); the config file's are synced at
 * start. Input goes through the same schema as the config file's `webhooks` entries.
 */
import type { WebhookConfig } from '../webhooks/schema.js';
import { log } from '../log.js';
import type { NewWebhookEndpoint, Store, WebhookEndpoint } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { getMailboxOrThrow } from './mailboxes.js';

const toNew = (w: WebhookConfig): NewWebhookEndpoint =>
  ({ url: w.url, secrets: w.secret, events: w.events ?? null, mailbox: w.mailbox ?? null });

export async function addWebhook(ctx: AppContext, who: Principal, w: WebhookConfig): Promise<WebhookEndpoint> {
  requireRole(who, ['operator'], 'adding a webhook');
  if (w.mailbox !== undefined) await getMailboxOrThrow(ctx, w.mailbox);
  return ctx.store.addWebhookEndpoint(toNew(w), who.id, ctx.clock());
}

export async function removeWebhook(ctx: AppContext, who: Principal, id: string, reason: string | null): Promise<WebhookEndpoint> {
  requireRole(who, ['operator'], 'removing a webhook');
  return ctx.store.removeWebhookEndpoint(id, who.id, reason, ctx.clock());
}

export async function listWebhooks(ctx: AppContext, who: Principal, q: { include_disabled: boolean }): Promise<WebhookEndpoint[]> {
  requireRole(who, ['operator'], 'listing webhooks');
  return ctx.store.listWebhookEndpoints(q);
}

/** The config file's endpoints, brought into the database at start (see webhook-endpoints.ts syncConfigInTx). */
export async function syncConfigWebhooks(store: Store, webhooks: readonly WebhookConfig[], actor: string, now: number): Promise<void> {
  const r = await store.syncConfigWebhooks(webhooks.map(toNew), actor, now);
  if (r.added.length || r.updated.length || r.removed.length) log('info', 'webhook endpoints synced from config', { ...r });
}
