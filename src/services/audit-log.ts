/**
 * The audit chain's state, for the people who check it: verification (CLI, dashboard, demo) and the newest
 * event (the dashboard's live updates). Reading the events themselves is review.ts auditTrail; the export is
 * audit-export.ts.
 */
import type { VerifyResult } from '../store/audit.js';
import { type AppContext, type Principal, requireRole } from './context.js';

/**
 * Verifies the whole chain (optionally against a head hash kept elsewhere). Needs the roles that may read the
 * audit log; the result names no mailbox's content, only where the chain breaks, so it is not scoped.
 */
export async function verifyAudit(ctx: AppContext, who: Principal, anchor?: string): Promise<VerifyResult> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'verifying the audit log');
  return ctx.store.verifyAudit(anchor);
}

/**
 * The newest audit event's sequence number (0 before the first): the dashboard polls it to learn that something
 * changed in another process. A bare counter says nothing of any mailbox, so it takes no principal.
 */
export async function latestAuditSeq(ctx: AppContext): Promise<number> {
  const [head] = await ctx.store.audit({ limit: 1 });
  return head?.seq ?? 0;
}
