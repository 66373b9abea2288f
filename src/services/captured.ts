/**
 * Mail the sandbox transport captured instead of sending (src/services/sandbox.ts): what an agent would have
 * sent outside, for the person checking a setup (`mailgate captured`).
 */
import type { CapturedMail } from '../store/store.js';
import { type AppContext, type Principal, requireRole } from './context.js';
import { inScope } from './scope.js';

/** The newest captured mail first, of the mailboxes this principal may see. */
export async function listCaptured(ctx: AppContext, who: Principal, limit: number): Promise<CapturedMail[]> {
  await requireRole(ctx, who, ['reviewer', 'operator'], 'listing captured mail');
  const rows = await ctx.store.listCaptured(limit);
  return rows.filter((c) => inScope(who, c.mailbox));
}
