/** Erasure of a message's personal data (GDPR Art. 17; README "Audit"): the audit chain keeps its hashes. */
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { getMessageOrThrow } from './scope.js';

/** Operators only, and only of a message in the principal's mailboxes; the erasure itself is audited. */
export async function eraseMessage(ctx: AppContext, who: Principal, id: string, reason: string): Promise<void> {
  await requireRole(ctx, who, ['operator'], 'erasing personal data');
  await getMessageOrThrow(ctx, who, id);
  await ctx.store.eraseMessage(id, who.id, reason, ctx.clock());
}
