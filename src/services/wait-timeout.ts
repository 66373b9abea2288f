/**
 * mail_wait's `timeout` (MCPMail's spelling): the total time a caller is willing to wait, as a duration string
 * ("48h", "90s", "1h30m"). One call still answers within MAX_WAIT_SECONDS, since MCP clients time calls out after
 * about a minute; the answer hands back what is left of the total, in the same spelling, for the next call.
 */
import * as z from 'zod';
import { invalid } from '../errors.js';

const UNITS = { d: 86400, h: 3600, m: 60, s: 1 } as const;
/** Units largest first, each at most once: "1h30m", "2d", "47h58m10s". */
const PATTERN = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/i;
/** A year: longer waits are a mistake in the number, not a plan. */
const MAX_TOTAL_SECONDS = 365 * 86400;

/** Seconds in a duration string, or NaN when it is not one. */
export function parseWaitTotal(v: string): number {
  const s = v.trim().replace(/\s+/g, '');
  const m = PATTERN.exec(s);
  if (!s || !m || m.slice(1).every((p) => p === undefined)) return Number.NaN;
  const [d, h, min, sec] = m.slice(1).map((p) => Number(p ?? 0)) as [number, number, number, number];
  return d * UNITS.d + h * UNITS.h + min * UNITS.m + sec * UNITS.s;
}

/** Seconds as a duration string the next call accepts: hours, minutes, seconds, zeros left out ("47h58m"). */
export function formatWaitTotal(seconds: number): string {
  const total = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const out = `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
  return out || '0s';
}

export const WaitTotal = z
  .string()
  .max(40, { error: "timeout: expected a duration such as '48h', '30m' or '90s'" })
  .transform((v, ctx) => {
    const seconds = parseWaitTotal(v);
    if (!Number.isFinite(seconds) || seconds < 1 || seconds > MAX_TOTAL_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        message: `timeout: expected a duration from 1s to 365d such as '48h', '30m', '90s' or '1h30m' (got '${v.slice(0, 40)}')`,
      });
      return z.NEVER;
    }
    return seconds;
  });

/** mail_wait's arguments after zod: what to wait for, in either vocabulary. */
export interface WaitArgs {
  message_id?: string | undefined;
  after_message?: string | undefined;
  mailbox?: string | undefined;
  from?: string | undefined;
  subject?: string | undefined;
  since?: string | undefined;
  cursor?: string | undefined;
  timeout_seconds?: number | undefined;
  /** Seconds, from WaitTotal. */
  timeout?: number | undefined;
}

type WaitTarget =
  | { kind: 'message'; id: string; spelling: 'message_id' | 'after_message' }
  | { kind: 'inbound'; mailbox: string; from?: string | undefined; subject?: string | undefined; since?: number | undefined; cursor?: string | undefined };

export interface WaitPlan {
  target: WaitTarget;
  /** This call's bound. */
  callSeconds: number;
  /** The caller's whole budget (`timeout`), when given. */
  totalSeconds: number | undefined;
}

const DEFAULT_CALL_SECONDS = 30;

/** Which wait the arguments ask for, refused with the field named when they ask for two or none. */
export function planWait(a: WaitArgs, maxCallSeconds: number): WaitPlan {
  if (a.message_id && a.after_message && a.message_id !== a.after_message) {
    throw invalid('after_message', 'after_message is another name for message_id; give one of them');
  }
  const id = a.message_id ?? a.after_message;
  if (id && a.mailbox) {
    throw invalid('mailbox', 'give message_id (wait on a message you sent) or mailbox (wait for new inbound mail), not both');
  }
  if (!id && !a.mailbox) {
    throw invalid('message_id', 'give message_id (or after_message) to wait on a message you sent, or mailbox to wait for new inbound mail');
  }
  for (const field of ['from', 'subject', 'since', 'cursor'] as const) {
    if (id && a[field] !== undefined) throw invalid(field, `${field} filters the wait for inbound mail; use it with mailbox, not message_id`);
  }
  if (a.since !== undefined && a.cursor !== undefined) {
    throw invalid('since', 'give since (first call) or cursor (a later call, from next_cursor), not both');
  }
  const bound = a.timeout_seconds ?? (a.timeout !== undefined ? maxCallSeconds : DEFAULT_CALL_SECONDS);
  const target: WaitTarget = id
    ? { kind: 'message', id, spelling: a.message_id ? 'message_id' : 'after_message' }
    : { kind: 'inbound', mailbox: a.mailbox!, from: a.from, subject: a.subject, since: a.since ? Date.parse(a.since) : undefined, cursor: a.cursor };
  return { target, callSeconds: Math.min(bound, a.timeout ?? bound), totalSeconds: a.timeout };
}

/**
 * The arguments for the next call, or null when there is nothing more to wait for: the message reached its end,
 * or the caller's whole `timeout` is used up. `timeout` in it is what is left of the total.
 */
export function resumeArgs(plan: WaitPlan, r: { done: boolean; waitedMs: number; cursor?: string | undefined; timeoutSeconds?: number | undefined }) {
  const left = plan.totalSeconds === undefined ? undefined : plan.totalSeconds - r.waitedMs / 1000;
  if ((left !== undefined && left < 1) || (plan.target.kind === 'message' && r.done)) return null;
  const t = plan.target;
  const what =
    t.kind === 'message'
      ? { [t.spelling]: t.id }
      : { mailbox: t.mailbox, ...(t.from ? { from: t.from } : {}), ...(t.subject ? { subject: t.subject } : {}), cursor: r.cursor };
  return { ...what, ...(left !== undefined ? { timeout: formatWaitTotal(left) } : r.timeoutSeconds ? { timeout_seconds: r.timeoutSeconds } : {}) };
}
