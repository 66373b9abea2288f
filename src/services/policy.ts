/**
 * Operator use cases for the policy engine: the suppression list, and a dry run of the gate on a draft
 * (`mailgate policy test`) that reports every rule it would hit without recording or sending anything.
 */
import { invalid } from '../errors.js';
import { parseSuppressionEntry } from '../gate/canonical.js';
import type { Decision } from '../gate/types.js';
import { newMessageId, newMessageIdHeader } from '../ids.js';
import type { MessageContent, OutboundMessage, Suppression } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { refuseIfCanDraft } from './needs-person.js';
import { getMailboxOrThrow, requireAllMailboxes } from './scope.js';
import { draftAction, gateFor } from './send.js';

export interface SuppressionInput {
  entry: string;
  mailbox?: string | undefined;
  reason?: string | undefined;
}

async function target(ctx: AppContext, who: Principal, input: SuppressionInput) {
  const parsed = parseSuppressionEntry(input.entry);
  if (!parsed) throw invalid('entry', `'${input.entry}' is not an address or a domain; use name@example.com or example.com`);
  // The list for every mailbox ('*') belongs to principals of every mailbox.
  if (!input.mailbox) await requireAllMailboxes(ctx, who, 'changing the suppression list of every mailbox');
  const scope = input.mailbox ? (await getMailboxOrThrow(ctx, who, input.mailbox)).address : '*';
  return { scope, ...parsed };
}

export async function suppress(
  ctx: AppContext,
  who: Principal,
  input: SuppressionInput,
): Promise<{ added: boolean; scope: string; kind: string; value: string }> {
  await requireRole(ctx, who, ['operator'], 'changing the suppression list');
  const t = await target(ctx, who, input);
  const added = await ctx.store.addSuppression({ ...t, reason: input.reason ?? null, source: 'manual', created_by: who.id }, ctx.clock());
  return { added, ...t };
}

export async function unsuppress(
  ctx: AppContext,
  who: Principal,
  input: SuppressionInput,
): Promise<{ removed: boolean; scope: string; kind: string; value: string }> {
  await requireRole(ctx, who, ['operator'], 'changing the suppression list');
  refuseIfCanDraft(who, 'removing a suppression', ['suppress', 'remove', input.entry, ...(input.mailbox ? ['--mailbox', input.mailbox] : [])]);
  const t = await target(ctx, who, input);
  return { removed: await ctx.store.removeSuppression(t, who.id, ctx.clock()), ...t };
}

export async function listSuppressed(ctx: AppContext, who: Principal, q: { mailbox?: string | undefined; limit: number }): Promise<Suppression[]> {
  if (!q.mailbox) await requireAllMailboxes(ctx, who, 'listing the suppression list of every mailbox');
  const scope = q.mailbox ? (await getMailboxOrThrow(ctx, who, q.mailbox)).address : undefined;
  return ctx.store.listSuppressions({ scope, limit: q.limit });
}

export interface DraftInput {
  mailbox: string;
  content: MessageContent;
  attachments?: { filename: string; content_type: string; size: number }[];
  /** For a reply: who is already in the thread (for the new_recipient hold). */
  thread_participants?: string[] | null;
  kind?: 'send' | 'reply';
  /** The draft's metadata: `automated_decision` / `decision_type` meet the GDPR Art. 22 hold. */
  metadata?: Record<string, unknown> | null;
}

/** What the gate would decide for this draft now, with every policy hit; nothing is stored or sent. */
export async function testPolicy(ctx: AppContext, who: Principal, input: DraftInput): Promise<Decision> {
  return simulate(ctx, (await getMailboxOrThrow(ctx, who, input.mailbox)).address, input);
}

function simulate(ctx: AppContext, mailbox: string, input: DraftInput): Promise<Decision> {
  const kind = input.kind ?? 'send';
  const action = draftAction(mailbox, kind, input.content, input.attachments ?? [], input.thread_participants ?? null, input.metadata);
  return ctx.store.simulateSubmit(
    {
      message_id: newMessageId(),
      message_id_header: newMessageIdHeader(mailbox),
      mailbox,
      kind,
      content: input.content,
      actor: 'policy-test',
      policy: ctx.settings.policy,
    },
    gateFor(ctx, action),
    ctx.clock(),
  );
}

/** Rules about who may receive mail: a reviewer's edits are held to them too (the suppression list is absolute). */
const RECIPIENT_RULES = new Set(['suppression', 'blocked_domains', 'allowed_domains', 'max_recipients']);

/**
 * Refuses edits that would send to someone the policy forbids. The other policy checks (duplicates, rates,
 * content holds) are about what an agent drafts; a person editing a held message has already looked at it.
 */
export async function checkEditedRecipients(ctx: AppContext, m: OutboundMessage, edits: Partial<MessageContent>): Promise<void> {
  if (edits.to === undefined && edits.cc === undefined && edits.bcc === undefined) return;
  const content: MessageContent = { to: edits.to ?? m.to, cc: edits.cc ?? m.cc, bcc: edits.bcc ?? m.bcc, subject: m.subject, text: m.text, html: m.html };
  // The message was found in the approver's scope already.
  const decision = await simulate(ctx, m.mailbox, { mailbox: m.mailbox, content });
  const refused = (decision.hits ?? []).filter((h) => h.effect === 'block' && RECIPIENT_RULES.has(h.rule));
  if (refused.length > 0) throw invalid('edits.to', `${refused.map((h) => h.reason).join('; ')}`);
}
