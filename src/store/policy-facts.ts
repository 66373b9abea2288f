/**
 * What the policy rules need to know, read inside the submit transaction so the counts and lists a decision
 * is made against are the ones it is written against (two racing sends cannot both slip under a limit).
 * Only what the effective policy asks for is queried, so an unlimited mailbox pays nothing for it.
 */
import { domainOf, suppressionKeys } from '../gate/canonical.js';
import type { EffectivePolicy, PolicyFacts, WindowCount } from '../gate/policy/index.js';
import { type Db, stmt } from './db.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

export function policyFacts(db: Db, p: EffectivePolicy, q: { mailbox: string; recipients: readonly string[]; hash: string; now: number }): PolicyFacts {
  const { mailbox, recipients, now } = q;
  const r = p.rateLimits;
  const windowCount = (ms: number): WindowCount => {
    // Matches the partial index messages_rate exactly, so the count reads the index alone.
    const row = stmt(
      db,
      `SELECT count(*) AS count, min(created_at) AS oldest FROM messages
                          WHERE mailbox = ? AND created_at > ? AND status <> 'blocked'`,
    ).get(mailbox, now - ms) as WindowCount;
    return { count: row.count, oldest: row.oldest };
  };
  const none = { count: 0, oldest: null };
  const recipientWindow = (to: string, ms: number): WindowCount => {
    const row = stmt(
      db,
      `SELECT count(*) AS count, min(created_at) AS oldest FROM message_recipients
                          WHERE mailbox = ? AND address = ? AND created_at > ?`,
    ).get(mailbox, to, now - ms) as WindowCount;
    return { count: row.count, oldest: row.oldest };
  };
  const perRecipient = r.per_recipient_per_hour !== undefined || r.per_recipient_per_day !== undefined;
  return {
    now,
    duplicateOf:
      p.dedupeWindowSeconds > 0
        ? ((stmt(
            db,
            `SELECT message_id, created_at, status FROM messages
                   WHERE mailbox = ? AND dedupe_hash = ? AND created_at > ? AND status NOT IN ('blocked', 'cancelled', 'failed')
                   ORDER BY created_at DESC LIMIT 1`,
          ).get(mailbox, q.hash, now - p.dedupeWindowSeconds * 1000) as PolicyFacts['duplicateOf']) ?? null)
        : null,
    mailboxCounts: {
      minute: r.per_minute !== undefined ? windowCount(MINUTE) : none,
      hour: r.per_hour !== undefined ? windowCount(HOUR) : none,
      day: r.per_day !== undefined ? windowCount(DAY) : none,
    },
    recipientCounts: new Map(
      perRecipient
        ? recipients.map((to) => [
            to,
            {
              hour: r.per_recipient_per_hour !== undefined ? recipientWindow(to, HOUR) : none,
              day: r.per_recipient_per_day !== undefined ? recipientWindow(to, DAY) : none,
            },
          ])
        : [],
    ),
    suppressed: suppressedRecipients(db, mailbox, recipients),
    knownDomains: p.holds.newExternalDomain ? knownDomains(db, mailbox, recipients) : new Set(),
    held: heldMessages(db, mailbox, now),
  };
}

/**
 * Held messages still awaiting a decision (max_pending). Read here, in the submit transaction, so two drafts
 * racing for the last place cannot both be held. One past its expiry that the sweeper has not reached yet
 * no longer counts: nobody can approve it.
 */
function heldMessages(db: Db, mailbox: string, now: number): PolicyFacts['held'] {
  const row = stmt(
    db,
    `SELECT count(*) AS count, min(expires_at) AS next_expiry FROM messages
                        WHERE mailbox = ? AND status = 'pending' AND (expires_at IS NULL OR expires_at > ?)`,
  ).get(mailbox, now) as PolicyFacts['held'];
  return { count: row.count, next_expiry: row.next_expiry };
}

function suppressedRecipients(db: Db, mailbox: string, recipients: readonly string[]): PolicyFacts['suppressed'] {
  const out = new Map<string, { kind: 'address' | 'domain'; value: string; reason: string | null }>();
  const find = stmt(
    db,
    `SELECT kind, value, reason FROM suppressions
                         WHERE scope IN (@mailbox, '*') AND kind = @kind AND value IN (SELECT value FROM json_each(@values)) LIMIT 1`,
  );
  for (const to of recipients) {
    const keys = suppressionKeys(to);
    const hit = (find.get({ mailbox, kind: 'address', values: JSON.stringify(keys.addresses) }) ??
      find.get({ mailbox, kind: 'domain', values: JSON.stringify(keys.domains) })) as
      | { kind: 'address' | 'domain'; value: string; reason: string | null }
      | undefined;
    if (hit) out.set(to, hit);
  }
  return out;
}

function knownDomains(db: Db, mailbox: string, recipients: readonly string[]): Set<string> {
  // The same expression as the index correspondents_domain, so this is a lookup.
  const any = stmt(db, "SELECT 1 FROM correspondents WHERE mailbox = ? AND substr(address, instr(address, '@') + 1) = ? LIMIT 1", true);
  const domains = [...new Set(recipients.map(domainOf))];
  return new Set(domains.filter((d) => any.get(mailbox, d) !== undefined));
}

/** Records whom a counted draft was addressed to (per-recipient rate limits). */
export function recordRecipients(db: Db, m: { message_id: string; mailbox: string; created_at: number }, recipients: readonly string[]): void {
  const ins = stmt(db, 'INSERT OR IGNORE INTO message_recipients (message_id, mailbox, address, created_at) VALUES (?, ?, ?, ?)');
  for (const r of recipients) ins.run(m.message_id, m.mailbox, r, m.created_at);
}
