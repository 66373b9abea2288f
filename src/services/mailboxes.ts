/** Operator use cases: list, create and update mailboxes, and apply the config file's mailboxes at start. */
import { invalid, unknownMailboxError } from '../errors.js';
import { type ModeInput, resolveMode } from '../gate/modes.js';
import type { PolicySettings } from '../gate/policy/settings.js';
import type { AutoApproveRule } from '../gate/rules/index.js';
import type { Mailbox, MailboxUpdateResult } from '../store/store.js';
import { canonicalAddress } from '../values.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';

export const DEFAULT_PENDING_TTL_SECONDS = 72 * 3600;

export async function getMailboxOrThrow(ctx: AppContext, address: string): Promise<Mailbox> {
  const mailbox = await ctx.store.getMailbox(canonicalAddress(address));
  if (mailbox) return mailbox;
  throw unknownMailboxError(address, (await ctx.store.listMailboxes()).map((m) => m.address));
}

export interface MailboxInput extends ModeInput {
  address: string;
  display_name?: string | null | undefined;
  pending_ttl_seconds?: number | undefined;
  transport?: Mailbox['transport'] | undefined;
  policy?: PolicySettings | undefined;
}

export async function createMailbox(ctx: AppContext, who: Principal, input: MailboxInput): Promise<Mailbox> {
  requireRole(who, ['operator'], 'creating a mailbox');
  const mode = resolveOrThrow(input, 'gated_send');
  return ctx.store.createMailbox({
    address: canonicalAddress(input.address),
    display_name: input.display_name ?? null,
    oversight_mode: mode.mode,
    mode_source: mode.source,
    auto_approve_rules: mode.rules,
    pending_ttl_seconds: input.pending_ttl_seconds ?? DEFAULT_PENDING_TTL_SECONDS,
    transport: input.transport ?? 'sandbox',
    policy: input.policy ?? {},
  }, who.id, ctx.clock());
}

export interface MailboxUpdate extends ModeInput {
  address: string;
  display_name?: string | null | undefined;
  pending_ttl_seconds?: number | undefined;
  transport?: Mailbox['transport'] | undefined;
  /** Replaces the mailbox's own policy settings (the global ones still apply beneath). */
  policy?: PolicySettings | undefined;
  change_reason: string;
}

/**
 * Changes a mailbox. A mode change applies to actions from now on: messages already held stay held and
 * unchanged, whichever way the mode moves (the store never re-gates them), and the change is audited with
 * who made it, the reason, and how many held messages it left alone.
 */
export async function updateMailbox(ctx: AppContext, who: Principal, input: MailboxUpdate): Promise<MailboxUpdateResult> {
  requireRole(who, ['operator'], 'changing a mailbox');
  if (!input.change_reason.trim()) throw invalid('change_reason', 'say why the mailbox is being changed; the reason is kept in the audit log');
  const current = await getMailboxOrThrow(ctx, input.address);
  const modeGiven = input.oversight_mode !== undefined || input.autonomy_level !== undefined || input.approval_mode !== undefined;
  let modePatch: { oversight_mode?: Mailbox['oversight_mode']; mode_source?: string; auto_approve_rules?: AutoApproveRule[] } = {};
  if (modeGiven) {
    const mode = resolveOrThrow({ ...input, auto_approve_rules: input.auto_approve_rules ?? (input.oversight_mode || input.approval_mode === 'smart' ? current.auto_approve_rules : undefined) }, current.oversight_mode);
    modePatch = { oversight_mode: mode.mode, mode_source: mode.source, auto_approve_rules: mode.rules };
  } else if (input.auto_approve_rules !== undefined) {
    modePatch = { auto_approve_rules: [...input.auto_approve_rules] };
  }
  return ctx.store.updateMailbox(current.address, {
    ...modePatch,
    display_name: input.display_name,
    pending_ttl_seconds: input.pending_ttl_seconds,
    transport: input.transport,
    policy: input.policy,
  }, who.id, input.change_reason.trim(), ctx.clock());
}

export async function listMailboxes(ctx: AppContext): Promise<Mailbox[]> {
  return ctx.store.listMailboxes();
}

function resolveOrThrow(input: ModeInput, fallback: Mailbox['oversight_mode']) {
  const r = resolveMode(input, fallback);
  if (!r.ok) throw invalid(r.field, r.message);
  return r.value;
}
