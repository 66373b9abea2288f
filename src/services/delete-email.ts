/**
 * delete_email: a gated write like tag_email (held in gated_all, refused in read_only, audited), recorded as a
 * mailbox action whose TagAction carries `delete`. The worker moves the email to the Trash or, only where the
 * mailbox's policy has allow_permanent_delete, deletes it for good (src/services/inbox-cache.ts applyTagAction).
 */
import { newActionId } from '../ids.js';
import { resolvePolicy } from '../gate/policy/settings.js';
import type { TagAction } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { type ActionResult, describeAction } from './inbox.js';
import { getEmailOrThrow } from './scope.js';
import { gateFor } from './send.js';

export async function deleteEmail(ctx: AppContext, who: Principal, input: { email_id: string; permanent: boolean }): Promise<ActionResult> {
  await requireRole(ctx, who, ['agent'], 'deleting mail');
  const email = await getEmailOrThrow(ctx, who, input.email_id);
  const mode = input.permanent ? 'permanent' : 'trash';
  const action: TagAction = { email_id: email.email_id, add_flags: [], remove_flags: [], move_to: null, delete: mode };
  const gate = gateFor(ctx, { kind: 'write', operation: 'delete' });
  let a = await ctx.store.submitAction(
    { action_id: newActionId(), mailbox: email.mailbox, action, actor: who.id },
    // Judged inside the store's transaction, against the mailbox row it reads, so the refusal is recorded and
    // audited (message.blocked) like any other; read_only's block comes first, as the gate gives it.
    (mailbox, facts, limits) => {
      const decision = gate(mailbox, facts, limits);
      if (mode === 'trash' || decision.outcome === 'block') return withMode(decision, mode);
      if (resolvePolicy(ctx.settings.policy, mailbox.policy).allowPermanentDelete) return withMode(decision, mode);
      return {
        outcome: 'block',
        code: 'action_blocked',
        reason:
          `permanent delete is off for ${mailbox.address} (policy allow_permanent_delete); delete_email without permanent moves ` +
          'the email to the Trash, or an operator turns allow_permanent_delete on',
      };
    },
    ctx.clock(),
  );
  if (a.status === 'approved') {
    await ctx.worker.tick();
    a = (await ctx.store.getAction(a.action_id)) ?? a;
  }
  return describeAction(a);
}

/** The reviewer reads what is asked in the reason, since a held delete has no flags or folder to show. */
function withMode<D extends { reason: string }>(decision: D, mode: 'trash' | 'permanent'): D {
  return { ...decision, reason: `${decision.reason} (${mode === 'permanent' ? 'delete permanently' : 'move to the Trash'})` };
}
