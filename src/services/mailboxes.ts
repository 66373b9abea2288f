/** Operator use cases: list, create and update mailboxes, and apply the config file's mailboxes at start. */
import { invalid } from '../errors.js';
import { type ModeInput, resolveMode } from '../gate/modes.js';
import type { PolicySettings } from '../gate/policy/settings.js';
import type { AutoApproveRule } from '../gate/rules/index.js';
import type { Mailbox, MailboxUpdateResult } from '../store/store.js';
import { canonicalAddress, pendingTtlProblem } from '../values.js';
import { mailboxStateHash, NEW_MAILBOX_CONTROLS } from '../gate/loosening.js';
import type { ApprovalCall } from './confirm.js';
import { changeMailbox } from './confirm-change.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { getMailboxOrThrow, requireAllMailboxes, visibleMailboxes } from './scope.js';

export const DEFAULT_PENDING_TTL_SECONDS = 72 * 3600;

export interface MailboxInput extends ModeInput {
  address: string;
  display_name?: string | null | undefined;
  pending_ttl_seconds?: number | undefined;
  transport?: Mailbox['transport'] | undefined;
  policy?: PolicySettings | undefined;
  /** Operator-set labels (values.ts MailboxMetadata); they change no behaviour, so never a loosening. */
  metadata?: Record<string, string | number | boolean> | undefined;
}

/** `session`: the MCP call, through which a person can confirm a loosening (src/services/confirm-change.ts). */
export async function createMailbox(ctx: AppContext, who: Principal, input: MailboxInput, session?: ApprovalCall): Promise<Mailbox> {
  await requireRole(ctx, who, ['operator'], 'creating a mailbox');
  // A principal bound to some mailboxes could not see the one it made: creating is for the unbound.
  await requireAllMailboxes(ctx, who, 'creating a mailbox');
  const mode = resolveOrThrow(input, 'gated_send');
  checkPendingTtl(ctx, input.pending_ttl_seconds);
  const mailbox = {
    address: canonicalAddress(input.address),
    display_name: input.display_name ?? null,
    oversight_mode: mode.mode,
    mode_source: mode.source,
    auto_approve_rules: mode.rules,
    pending_ttl_seconds: input.pending_ttl_seconds ?? DEFAULT_PENDING_TTL_SECONDS,
    transport: input.transport ?? 'sandbox',
    policy: input.policy ?? {},
    metadata: input.metadata ?? {},
  };
  // A new mailbox looser than the default (gated_send, no rules) is a loosening like any other.
  const r = await changeMailbox(ctx, who, session, {
    address: mailbox.address,
    before: NEW_MAILBOX_CONTROLS,
    after: mailbox,
    change: { op: 'create', mailbox },
    stateHash: mailboxStateHash(undefined),
    cliArgs: ['mailbox', 'create', mailbox.address, ...inputArgs(input)],
  });
  return r.mailbox;
}

export interface MailboxUpdate extends ModeInput {
  address: string;
  display_name?: string | null | undefined;
  pending_ttl_seconds?: number | undefined;
  transport?: Mailbox['transport'] | undefined;
  /** Replaces the mailbox's own policy settings (the global ones still apply beneath). */
  policy?: PolicySettings | undefined;
  /** Replaces the mailbox's labels. */
  metadata?: Record<string, string | number | boolean> | undefined;
  change_reason: string;
}

/**
 * Changes a mailbox. A mode change applies to actions from now on: messages already held stay held and
 * unchanged, whichever way the mode moves (the store never re-gates them), and the change is audited with
 * who made it, the reason, and how many held messages it left alone.
 */
export async function updateMailbox(ctx: AppContext, who: Principal, input: MailboxUpdate, session?: ApprovalCall): Promise<MailboxUpdateResult> {
  await requireRole(ctx, who, ['operator'], 'changing a mailbox');
  if (!input.change_reason.trim()) throw invalid('change_reason', 'say why the mailbox is being changed; the reason is kept in the audit log');
  checkPendingTtl(ctx, input.pending_ttl_seconds);
  const current = await getMailboxOrThrow(ctx, who, input.address);
  const modeGiven = input.oversight_mode !== undefined || input.autonomy_level !== undefined || input.approval_mode !== undefined;
  let modePatch: { oversight_mode?: Mailbox['oversight_mode']; mode_source?: string; auto_approve_rules?: AutoApproveRule[] } = {};
  if (modeGiven) {
    const mode = resolveOrThrow(
      {
        ...input,
        auto_approve_rules: input.auto_approve_rules ?? (input.oversight_mode || input.approval_mode === 'smart' ? current.auto_approve_rules : undefined),
      },
      current.oversight_mode,
    );
    modePatch = { oversight_mode: mode.mode, mode_source: mode.source, auto_approve_rules: mode.rules };
  } else if (input.auto_approve_rules !== undefined) {
    modePatch = { auto_approve_rules: [...input.auto_approve_rules] };
  }
  const patch = Object.fromEntries(
    Object.entries({
      ...modePatch,
      display_name: input.display_name,
      pending_ttl_seconds: input.pending_ttl_seconds,
      transport: input.transport,
      policy: input.policy,
      metadata: input.metadata,
    }).filter(([, v]) => v !== undefined),
  );
  const reason = input.change_reason.trim();
  // Loosening from a session that can draft needs the person (src/services/confirm-change.ts); tightening never does.
  return changeMailbox(ctx, who, session, {
    address: current.address,
    before: current,
    after: { ...current, ...patch },
    change: { op: 'update', patch, reason },
    stateHash: mailboxStateHash(current),
    cliArgs: ['mailbox', 'update', current.address, ...inputArgs(input), '--reason', reason],
  });
}

/** The `mailgate mailbox create|update` flags that ask for the same thing as this input. */
function inputArgs(input: ModeInput & Pick<MailboxInput, 'display_name' | 'pending_ttl_seconds' | 'policy' | 'metadata'>): string[] {
  const out: string[] = [];
  if (input.oversight_mode !== undefined) out.push('--mode', input.oversight_mode);
  if (input.autonomy_level !== undefined) out.push('--autonomy-level', String(input.autonomy_level));
  if (input.approval_mode !== undefined) out.push('--approval-mode', input.approval_mode);
  if (input.auto_approve_rules !== undefined) out.push('--rules', JSON.stringify(input.auto_approve_rules));
  if (input.pending_ttl_seconds !== undefined) out.push('--ttl', `${input.pending_ttl_seconds}s`);
  if (typeof input.display_name === 'string') out.push('--display-name', input.display_name);
  if (input.policy !== undefined) out.push('--policy', JSON.stringify(input.policy));
  // JSON values, so each reads back exactly (`team="7"` stays a string, `tier=2` a number).
  for (const [k, v] of Object.entries(input.metadata ?? {})) out.push('--metadata', `${k}=${JSON.stringify(v)}`);
  return out;
}

/** The mailboxes this principal may see: all of them, or those it is bound to. */
export async function listMailboxes(ctx: AppContext, who: Principal): Promise<Mailbox[]> {
  return visibleMailboxes(ctx, who);
}

/** The 1 hour to 30 day bound (src/values.ts), for every path that sets a TTL: tools, CLI, dashboard. */
export function checkPendingTtl(ctx: AppContext, seconds: number | undefined, field = 'pending_ttl'): void {
  const problem = seconds === undefined ? null : pendingTtlProblem(seconds, ctx.settings.allowShortTtl === true);
  if (problem) throw invalid(field, problem);
}

function resolveOrThrow(input: ModeInput, fallback: Mailbox['oversight_mode']) {
  const r = resolveMode(input, fallback);
  if (!r.ok) throw invalid(r.field, r.message);
  return r.value;
}
