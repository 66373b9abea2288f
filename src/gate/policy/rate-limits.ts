import type { PolicyHit, PolicyRule, WindowCount } from './types.js';

const WINDOWS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

function over(rule: string, limit: number | undefined, w: WindowCount, windowMs: number, now: number, who: string): PolicyHit | null {
  if (limit === undefined || w.count < limit) return null;
  const retryAt = (w.oldest ?? now) + windowMs;
  return {
    rule,
    code: 'rate_limited',
    effect: 'block',
    reason: `${who} reached ${rule.replace('rate_limits.', '')} = ${limit}; try again after ${new Date(retryAt).toISOString()}`,
    details: { limit, count: w.count, retry_after: new Date(retryAt).toISOString() },
  };
}

/** Per-mailbox and per-recipient send rates. Every draft that was not blocked counts, held ones included. */
export const rateLimits: PolicyRule = (p, draft, f) => {
  const r = p.rateLimits;
  const hits: (PolicyHit | null)[] = [
    over('rate_limits.per_minute', r.per_minute, f.mailboxCounts.minute, WINDOWS.minute, f.now, 'this mailbox'),
    over('rate_limits.per_hour', r.per_hour, f.mailboxCounts.hour, WINDOWS.hour, f.now, 'this mailbox'),
    over('rate_limits.per_day', r.per_day, f.mailboxCounts.day, WINDOWS.day, f.now, 'this mailbox'),
  ];
  for (const to of draft.recipients) {
    const c = f.recipientCounts.get(to);
    if (!c) continue;
    hits.push(over('rate_limits.per_recipient_per_hour', r.per_recipient_per_hour, c.hour, WINDOWS.hour, f.now, `mail to ${to}`));
    hits.push(over('rate_limits.per_recipient_per_day', r.per_recipient_per_day, c.day, WINDOWS.day, f.now, `mail to ${to}`));
  }
  return hits.filter((h): h is PolicyHit => h !== null);
};
