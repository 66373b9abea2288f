/**
 * `mailgate webhook add | list | remove | secret`: the operator's webhook endpoints. Only the CLI manages
 * them (no MCP tool), so a signing secret never passes through a model's context. A secret is printed once,
 * when `add` generates it (the receiver needs it); `list` never prints one.
 */
import type { App } from '../app.js';
import { invalid } from '../errors.js';
import type { Principal } from '../services/context.js';
import { addWebhook, listWebhooks, removeWebhook } from '../services/webhooks.js';
import type { WebhookEndpoint } from '../store/store.js';
import { WebhookConfig, displayUrl } from '../webhooks/schema.js';
import { newWebhookSecret } from '../webhooks/sign.js';
import { printJson, printLine, printTable } from './output.js';

export interface WebhookFlags {
  json?: boolean | undefined;
  secret?: string | undefined;
  events?: string | undefined;
  mailbox?: string | undefined;
  reason?: string | undefined;
  'allow-private-network'?: boolean | undefined;
}

const FLAG_OF: Record<string, string> = {
  url: 'URL',
  secret: '--secret',
  events: '--events',
  mailbox: '--mailbox',
  allow_private_network: '--allow-private-network',
};

/** What an operator may see of an endpoint: where it points, its filters and delivery counts; no secret. */
function shown(e: WebhookEndpoint) {
  return {
    endpoint_id: e.endpoint_id,
    url: displayUrl(e.url),
    events: e.events ?? 'all',
    mailbox: e.mailbox ?? 'all',
    source: e.source,
    allow_private_network: e.allow_private_network,
    state: e.disabled_at === null ? 'active' : 'removed',
    created_at: new Date(e.created_at).toISOString(),
    pending: e.pending,
    delivered: e.delivered,
    failed: e.failed,
    last_status: e.last_status,
    last_error: e.last_error,
  };
}

/** `mailgate webhook secret`: needs no database, so main.ts runs it before opening one. */
export function webhookSecretCommand(flags: WebhookFlags): void {
  const secret = newWebhookSecret();
  if (flags.json) printJson({ secret });
  else printLine(secret);
}

export async function webhookCommand(app: App, who: Principal, sub: string | undefined, args: string[], flags: WebhookFlags): Promise<void> {
  if (sub === 'list' || sub === undefined) {
    const rows = (await listWebhooks(app, who, { include_disabled: true })).map(shown);
    if (flags.json) return printJson({ webhooks: rows });
    return printTable(rows, ['endpoint_id', 'url', 'events', 'mailbox', 'source', 'state', 'pending', 'delivered', 'failed', 'last_error']);
  }
  if (sub === 'add') {
    const generated = flags.secret === undefined ? newWebhookSecret() : undefined;
    const parsed = WebhookConfig.safeParse({
      url: args[0] ?? '',
      secret: flags.secret ?? generated,
      events: flags.events
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      mailbox: flags.mailbox,
      allow_private_network: flags['allow-private-network'] === true ? true : undefined,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw invalid(FLAG_OF[String(issue.path[0])] ?? 'webhook', issue.message);
    }
    const ep = shown(await addWebhook(app, who, parsed.data));
    if (flags.json) return printJson(generated ? { ...ep, secret: generated } : ep);
    printLine(
      `added ${ep.endpoint_id}: ${ep.url} (events: ${String(ep.events)}; mailbox: ${ep.mailbox}${ep.allow_private_network ? '; private network allowed' : ''})`,
    );
    if (generated) printLine(`secret, shown once; give it to the receiver: ${generated}`);
    return;
  }
  if (sub === 'remove') {
    const id = args[0];
    if (!id) throw invalid('ID', "give the endpoint id to remove, e.g. 'mailgate webhook remove wh_...' ('mailgate webhook list' shows them)");
    const ep = shown(await removeWebhook(app, who, id, flags.reason ?? null));
    return flags.json ? printJson(ep) : printLine(`removed ${ep.endpoint_id} (${ep.url}); nothing more is sent to it`);
  }
  throw invalid('webhook', `unknown subcommand '${sub}'; use add, list, remove or secret`);
}
