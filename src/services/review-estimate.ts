/**
 * `estimated_review_time` on a pending answer (issue 11, as MultiMail's send answers have): the median time
 * people took to decide this mailbox's recent held mail, so an agent can tell its user "usually reviewed within
 * about 2 hours" instead of guessing. Null without enough history to say anything honest.
 */
import type { AppContext } from './context.js';

/** The decisions looked at: recent enough to reflect today's reviewers. */
const RECENT = 50;
/** Fewer than this and a median says more about chance than about the reviewers. */
const MIN_DECISIONS = 3;

async function estimatedReviewTime(ctx: AppContext, mailbox: string): Promise<string | null> {
  const durations = (await ctx.store.reviewDurations(mailbox, RECENT)).filter((ms) => ms >= 0).sort((a, b) => a - b);
  if (durations.length < MIN_DECISIONS) return null;
  const mid = Math.floor(durations.length / 2);
  const median = durations.length % 2 ? durations[mid]! : (durations[mid - 1]! + durations[mid]!) / 2;
  return roughly(median / 1000);
}

/** A duration in one unit, rounded the way a person would say it: 40s, 25m, 3h, 2d. */
export function roughly(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))}s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

/** A send or reply answer, with the estimate when it is pending (the message names its mailbox). */
export async function withReviewEstimate<T extends { status: string; message_id: string }>(
  ctx: AppContext,
  answer: T,
): Promise<T & { estimated_review_time?: string | null }> {
  if (answer.status !== 'pending') return answer;
  const m = await ctx.store.getMessage(answer.message_id);
  return { ...answer, estimated_review_time: m ? await estimatedReviewTime(ctx, m.mailbox) : null };
}
