/**
 * Managing webhook endpoints: operators add, list and remove them (the CLI); the config file's are synced at
 * start. Input goes through the same schema as the config file's `webhooks` entries.
 */
import type { WebhookConfig } from '../webhooks/schema.js';
import { log } from '../log.js';
import type { NewWebhookEndpoint, Store, WebhookEndpoint } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { refuseIfCanDraft } from './needs-person.js';
import { getMailboxOrThrow, recordScopeDenial, requireAllMailboxes, scopeFilter } from './scope.js';
import { MailgateError } from '../errors.js';

const toNew = (w: WebhookConfig): NewWebhookEndpoint => ({
  url: w.url,
  secrets: w.secret,
  events: w.events ?? null,
  mailbox: w.mailbox ?? null,
  allow_private_network: w.allow_private_network === true,
});

export async function addWebhook(ctx: AppContext, who: Principal, w: WebhookConfig): Promise<WebhookEndpoint> {
  await requireRole(ctx, who, ['operator'], 'adding a webhook');
  // The secret is never echoed: without --secret the CLI makes one and shows it to the person.
  refuseIfCanDraft(who, 'adding a webhook', [
    'webhook',
    'add',
    w.url,
    ...(w.events ? ['--events', w.events.join(',')] : []),
    ...(w.mailbox ? ['--mailbox', w.mailbox] : []),
  ]);
  // An endpoint of no mailbox hears every mailbox's events: only a principal of every mailbox adds one.
  if (w.mailbox === undefined) await requireAllMailboxes(ctx, who, 'adding a webhook for every mailbox');
  else await getMailboxOrThrow(ctx, who, w.mailbox);
  return ctx.store.addWebhookEndpoint(toNew(w), who.id, ctx.clock());
}

export async function removeWebhook(ctx: AppContext, who: Principal, id: string, reason: string | null): Promise<WebhookEndpoint> {
  await requireRole(ctx, who, ['operator'], 'removing a webhook');
  refuseIfCanDraft(who, 'removing a webhook', ['webhook', 'remove', id]);
  if (who.mailboxes !== 'all') {
    // A bound principal sees only its mailboxes' endpoints; any other id is answered as an unknown one.
    const visible = (await listWebhooks(ctx, who, { include_disabled: false })).map((e) => e.endpoint_id);
    if (!visible.includes(id)) {
      const other = (await ctx.store.listWebhookEndpoints({ include_disabled: true })).find((e) => e.endpoint_id === id);
      if (other) await recordScopeDenial(ctx, who, id, other.mailbox);
      throw new MailgateError('INVALID_INPUT', `no active webhook endpoint '${id}'; active: ${visible.join(', ') || '(none)'}`, { field: 'id' });
    }
  }
  return ctx.store.removeWebhookEndpoint(id, who.id, reason, ctx.clock());
}

export async function listWebhooks(ctx: AppContext, who: Principal, q: { include_disabled: boolean }): Promise<WebhookEndpoint[]> {
  await requireRole(ctx, who, ['operator'], 'listing webhooks');
  const only = scopeFilter(who);
  const all = await ctx.store.listWebhookEndpoints(q);
  return only ? all.filter((e) => e.mailbox !== null && only.includes(e.mailbox)) : all;
}

/** The config file's endpoints, brought into the database at start (see src/domain/webhook-ops.ts syncConfigInTx). */
export async function syncConfigWebhooks(store: Store, webhooks: readonly WebhookConfig[], actor: string, now: number): Promise<void> {
  const r = await store.syncConfigWebhooks(webhooks.map(toNew), actor, now);
  if (r.added.length || r.updated.length || r.removed.length) log('info', 'webhook endpoints synced from config', { ...r });
}
