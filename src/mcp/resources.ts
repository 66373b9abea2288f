/**
 * MCP resources (issue 11): the pending queue and each mailbox's status, so a client can show "what is waiting
 * for approval" without the model calling a tool. Read through the same services as list_pending and
 * list_mailboxes, with the session's principal, so a resource shows exactly what those tools would: a session
 * bound to one mailbox never sees another's queue, and an unknown or foreign mailbox URI reads as not found.
 *
 * Clients that subscribe (resources/subscribe) are told when a resource changed (notifications/resources/
 * updated), driven by the store's change signals, which reach every instance on PostgreSQL too.
 */
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { toActionView } from '../present/actions.js';
import { toMailbox, toPendingItem } from '../present/records.js';
import type { AppContext, Principal } from '../services/context.js';
import { listMailboxes } from '../services/mailboxes.js';
import { listPending } from '../services/review.js';

export const PENDING_URI = 'mailgate://pending';
const mailboxUri = (address: string) => `mailgate://mailbox/${encodeURIComponent(address)}`;

/** How many held items a resource shows; list_pending pages beyond it. */
const SHOWN = 100;
/** Changes arrive in bursts (a batch of approvals): one notification per URI per this many ms. */
const NOTIFY_EVERY_MS = 250;

const json = (uri: string, value: unknown) => ({ contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(value, null, 2) }] });

/** The queue as list_pending shows it (first page), with the held mailbox actions. */
export async function pendingQueue(ctx: AppContext, who: Principal, mailbox?: string) {
  const page = await listPending(ctx, who, { mailbox, limit: SHOWN });
  return { messages: page.messages.map(toPendingItem), actions: page.actions.map(toActionView), more: page.next_cursor !== null };
}

async function mailboxStatus(ctx: AppContext, who: Principal, address: string) {
  const mb = (await listMailboxes(ctx, who)).find((m) => m.address === address);
  if (!mb) return undefined;
  const queue = await pendingQueue(ctx, who, mb.address);
  return { ...toMailbox(mb), pending: queue.messages.length, held_actions: queue.actions.length, pending_more: queue.more };
}

export function registerResources(server: McpServer, ctx: AppContext, principal: () => Principal): void {
  server.registerResource(
    'pending',
    PENDING_URI,
    { title: 'Mail waiting for approval', description: 'Held sends and mailbox actions, oldest first (as list_pending)', mimeType: 'application/json' },
    async (uri) => json(uri.href, await pendingQueue(ctx, principal())),
  );
  server.registerResource(
    'mailbox',
    new ResourceTemplate('mailgate://mailbox/{address}', {
      list: async () => ({
        resources: (await listMailboxes(ctx, principal())).map((m) => ({
          uri: mailboxUri(m.address),
          name: m.address,
          title: `${m.address} (${m.oversight_mode})`,
          mimeType: 'application/json',
        })),
      }),
    }),
    { title: 'Mailbox status', description: 'Oversight mode, rules and how much is waiting for approval', mimeType: 'application/json' },
    async (uri, { address }) => {
      const status = await mailboxStatus(ctx, principal(), decodeURIComponent(String(address)));
      if (!status) throw new Error(`no mailbox at ${uri.href} in this session; resources/list shows the session's mailboxes`);
      return json(uri.href, status);
    },
  );
  notifyOnChange(server, ctx);
}

/** resources/subscribe and /unsubscribe, and notifications/resources/updated when a subscribed resource changed. */
function notifyOnChange(server: McpServer, ctx: AppContext): void {
  const subscribed = new Set<string>();
  const due = new Map<string, NodeJS.Timeout>();
  server.server.registerCapabilities({ resources: { subscribe: true, listChanged: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (req) => (subscribed.add(req.params.uri), {}));
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => (subscribed.delete(req.params.uri), {}));
  const updated = (uri: string) => {
    if (!subscribed.has(uri) || due.has(uri)) return;
    due.set(
      uri,
      setTimeout(() => {
        due.delete(uri);
        server.server.sendResourceUpdated({ uri }).catch(() => undefined);
      }, NOTIFY_EVERY_MS),
    );
  };
  // A one-shot command's own worker emits a bare 'change' (src/app.ts): then anything may have moved.
  const onChange = (c?: { topic: string; mailbox: string | null }) => {
    // A mailbox made or changed: clients re-list (notifications/resources/list_changed) and re-read its status.
    if (c?.topic === 'mailbox') {
      server.sendResourceListChanged();
      if (c.mailbox) updated(mailboxUri(c.mailbox));
      return;
    }
    if (c && c.topic !== 'outbound' && c.topic !== 'resync') return;
    updated(PENDING_URI);
    if (c?.mailbox) updated(mailboxUri(c.mailbox));
    else for (const uri of subscribed) updated(uri);
  };
  ctx.changes.on('change', onChange);
  const closed = server.server.onclose;
  server.server.onclose = () => {
    ctx.changes.off('change', onChange);
    for (const t of due.values()) clearTimeout(t);
    closed?.();
  };
}
