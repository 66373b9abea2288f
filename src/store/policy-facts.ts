/**
 * What the policy rules need to know, read inside the submit transaction so the counts and lists a decision
 * is made against are the ones it is written against (two racing sends cannot both slip under a limit).
 * Only what the effective policy asks for is queried, so an unlimited mailbox pays nothing for it.
 */
import { domainOf, suppressionKeys } from '../gate/canonical.js';
import type { EffectivePolicy, PolicyFacts, WindowCount } from '../gate/policy/index.js';
import type { SqlTx } from './sql/types.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export async function policyFacts(
  q: SqlTx,
  p: EffectivePolicy,
  f: { mailbox: string; recipients: readonly string[]; hash: string; now: number },
): Promise<PolicyFacts> {
  const { mailbox, recipients, now } = f;
  const r = p.rateLimits;
  const windowCount = async (ms: number): Promise<WindowCount> => {
    // Matches the partial index messages_rate exactly, so the count reads the index alone.
    const row = (await q.get<WindowCount>(
      `SELECT count(*) AS count, min(created_at) AS oldest FROM messages
                          WHERE mailbox = ? AND created_at > ? AND status <> 'blocked'`,
      [mailbox, now - ms],
    ))!;
    return { count: row.count, oldest: row.oldest };
  };
  const none = { count: 0, oldest: null };
  const recipientWindow = async (to: string, ms: number): Promise<WindowCount> => {
    const row = (await q.get<WindowCount>(
      `SELECT count(*) AS count, min(created_at) AS oldest FROM message_recipients
                          WHERE mailbox = ? AND address = ? AND created_at > ?`,
      [mailbox, to, now - ms],
    ))!;
    return { count: row.count, oldest: row.oldest };
  };
  const perRecipient = r.per_recipient_per_hour !== undefined || r.per_recipient_per_day !== undefined;
  const recipientCounts = new Map<string, { hour: WindowCount; day: WindowCount }>();
  if (perRecipient) {
    for (const to of recipients) {
      recipientCounts.set(to, {
        hour: r.per_recipient_per_hour !== undefined ? await recipientWindow(to, HOUR) : none,
        day: r.per_recipient_per_day !== undefined ? await recipientWindow(to, DAY) : none,
      });
    }
  }
  return {
    now,
    duplicateOf:
      p.dedupeWindowSeconds > 0
        ? ((await q.get<NonNullable<PolicyFacts['duplicateOf']>>(
            `SELECT message_id, created_at, status FROM messages
                   WHERE mailbox = ? AND dedupe_hash = ? AND created_at > ? AND status NOT IN ('blocked', 'cancelled', 'failed')
                   ORDER BY created_at DESC LIMIT 1`,
            [mailbox, f.hash, now - p.dedupeWindowSeconds * 1000],
          )) ?? null)
        : null,
    mailboxCounts: {
      minute: r.per_minute !== undefined ? await windowCount(MINUTE) : none,
      hour: r.per_hour !== undefined ? await windowCount(HOUR) : none,
      day: r.per_day !== undefined ? await windowCount(DAY) : none,
    },
    recipientCounts,
    suppressed: await suppressedRecipients(q, mailbox, recipients),
    knownDomains: p.holds.newExternalDomain ? await knownDomains(q, mailbox, recipients) : new Set(),
    held: await heldMessages(q, mailbox, now),
  };
}

/**
 * Held messages still awaiting a decision (max_pending). Read here, in the submit transaction, so two drafts
 * racing for the last place cannot both be held. One past its expiry that the sweeper has not reached yet
 * no longer counts: nobody can approve it.
 */
async function heldMessages(q: SqlTx, mailbox: string, now: number): Promise<PolicyFacts['held']> {
  const row = (await q.get<PolicyFacts['held']>(
    `SELECT count(*) AS count, min(expires_at) AS next_expiry FROM messages
                        WHERE mailbox = ? AND status = 'pending' AND (expires_at IS NULL OR expires_at > ?)`,
    [mailbox, now],
  ))!;
  return { count: row.count, next_expiry: row.next_expiry };
}

async function suppressedRecipients(q: SqlTx, mailbox: string, recipients: readonly string[]): Promise<PolicyFacts['suppressed']> {
  const out = new Map<string, { kind: 'address' | 'domain'; value: string; reason: string | null }>();
  const find = (kind: 'address' | 'domain', values: readonly string[]) =>
    q.get<{ kind: 'address' | 'domain'; value: string; reason: string | null }>(
      `SELECT kind, value, reason FROM suppressions
                         WHERE scope IN (@mailbox, '*') AND kind = @kind AND value IN ${q.dialect.jsonList('@values')} LIMIT 1`,
      { mailbox, kind, values: JSON.stringify(values) },
    );
  for (const to of recipients) {
    const keys = suppressionKeys(to);
    const hit = (await find('address', keys.addresses)) ?? (await find('domain', keys.domains));
    if (hit) out.set(to, hit);
  }
  return out;
}

async function knownDomains(q: SqlTx, mailbox: string, recipients: readonly string[]): Promise<Set<string>> {
  // The same expression as the index correspondents_domain, so this is a lookup (PostgreSQL spells instr strpos).
  const domainExpr = q.dialect.name === 'postgres' ? "substr(address, strpos(address, '@') + 1)" : "substr(address, instr(address, '@') + 1)";
  const known = new Set<string>();
  for (const d of new Set(recipients.map(domainOf))) {
    if ((await q.value(`SELECT 1 FROM correspondents WHERE mailbox = ? AND ${domainExpr} = ? LIMIT 1`, [mailbox, d])) !== undefined) known.add(d);
  }
  return known;
}

/** Records whom a counted draft was addressed to (per-recipient rate limits). */
export async function recordRecipients(q: SqlTx, m: { message_id: string; mailbox: string; created_at: number }, recipients: readonly string[]): Promise<void> {
  for (const r of recipients) {
    await q.run('INSERT INTO message_recipients (message_id, mailbox, address, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      m.message_id,
      m.mailbox,
      r,
      m.created_at,
    ]);
  }
}
