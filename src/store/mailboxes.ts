/** The mailbox aggregate: rows, contact lists, and who each mailbox has corresponded with. */
import { type MailgateError, unknownMailboxError } from '../errors.js';
import type { PolicySettings } from '../gate/policy/index.js';
import type { AutoApproveRule } from '../gate/rules/index.js';
import type { OversightMode } from '../values.js';
import type { SqlTx } from './sql/types.js';

type Transport = 'sandbox' | 'imap_smtp';

export interface Mailbox {
  address: string;
  display_name: string | null;
  oversight_mode: OversightMode;
  mode_source: string;
  auto_approve_rules: AutoApproveRule[];
  pending_ttl_seconds: number;
  transport: Transport;
  /** The mailbox's own policy settings (over the global ones): see src/gate/policy/settings.ts. */
  policy: PolicySettings;
  /** Operator-set labels for other systems (values.ts MailboxMetadata); always set on rows read back. */
  metadata?: Record<string, string | number | boolean>;
  created_at: number;
  updated_at: number;
  /**
   * sha256 of the config file's entry last applied to this mailbox (null: never applied, as on databases made
   * before schema 4). The file is applied again only when its entry's digest differs (src/services/config-apply.ts).
   */
  config_digest: string | null;
  /** Deliveries paused for a configuration problem (src/store/delivery-pause.ts): since when, and why. */
  delivery_paused_at?: number | null;
  delivery_paused_reason?: string | null;
  delivery_paused_digest?: string | null;
  /** The breaker: consecutive transient failures, and the time before which the mailbox sends nothing. */
  delivery_failures?: number;
  delivery_held_until?: number | null;
}

interface MailboxRow extends Omit<Mailbox, 'auto_approve_rules' | 'policy' | 'metadata'> {
  auto_approve_rules: string;
  policy: string;
  metadata: string;
}

const fromRow = (r: MailboxRow): Mailbox => ({
  ...r,
  auto_approve_rules: JSON.parse(r.auto_approve_rules) as AutoApproveRule[],
  policy: JSON.parse(r.policy) as PolicySettings,
  metadata: JSON.parse(r.metadata ?? '{}') as Record<string, string | number | boolean>,
});
const toRow = (m: Mailbox) => ({
  ...m,
  auto_approve_rules: JSON.stringify(m.auto_approve_rules),
  policy: JSON.stringify(m.policy ?? {}),
  metadata: JSON.stringify(m.metadata ?? {}),
  config_digest: m.config_digest ?? null,
});

export async function getMailboxRow(q: SqlTx, address: string): Promise<Mailbox | undefined> {
  const row = await q.get<MailboxRow>('SELECT * FROM mailboxes WHERE address = ?', [address]);
  return row && fromRow(row);
}

export async function listMailboxRows(q: SqlTx): Promise<Mailbox[]> {
  return (await q.all<MailboxRow>('SELECT * FROM mailboxes ORDER BY address')).map(fromRow);
}

export async function insertMailboxRow(q: SqlTx, m: Mailbox): Promise<void> {
  await q.run(
    `INSERT INTO mailboxes (address, display_name, oversight_mode, mode_source, auto_approve_rules,
                pending_ttl_seconds, transport, policy, metadata, created_at, updated_at, config_digest)
              VALUES (@address, @display_name, @oversight_mode, @mode_source, @auto_approve_rules,
                @pending_ttl_seconds, @transport, @policy, @metadata, @created_at, @updated_at, @config_digest)`,
    toRow(m),
  );
}

export async function updateMailboxRow(q: SqlTx, m: Mailbox): Promise<void> {
  await q.run(
    `UPDATE mailboxes SET display_name = @display_name, oversight_mode = @oversight_mode, mode_source = @mode_source,
                auto_approve_rules = @auto_approve_rules, pending_ttl_seconds = @pending_ttl_seconds,
                transport = @transport, policy = @policy, metadata = @metadata, updated_at = @updated_at, config_digest = @config_digest
              WHERE address = @address`,
    toRow(m),
  );
}

/** Records which config file entry the mailbox now reflects; not a change to the mailbox, so not audited. */
export async function setConfigDigest(q: SqlTx, address: string, digest: string | null): Promise<void> {
  await q.run('UPDATE mailboxes SET config_digest = ? WHERE address = ?', [digest, address]);
}

const CHANGE_ACTIONS = ['mailbox.created', 'mailbox.updated', 'mailbox.mode_changed'];

/** Who last changed the mailbox and when, from the audit chain (the row itself does not keep the actor). */
export function lastMailboxChange(q: SqlTx, address: string): Promise<{ actor: string; at: number } | undefined> {
  return q.get<{ actor: string; at: number }>(
    `SELECT actor, at FROM audit_events WHERE mailbox = ? AND action IN (${CHANGE_ACTIONS.map(() => '?').join(', ')})
                   ORDER BY seq DESC LIMIT 1`,
    [address, ...CHANGE_ACTIONS],
  );
}

/**
 * Mail the gate itself let go (decided_by IS NULL: no human approved it) that has not reached the final dot:
 * what a tightening of the mailbox's mode takes back (src/domain/mailbox-rules.ts).
 */
export function ungatedUnsent(q: SqlTx, address: string): Promise<{ message_id: string; status: 'queued' | 'sending' }[]> {
  return q.all<{ message_id: string; status: 'queued' | 'sending' }>(
    `SELECT message_id, status FROM messages WHERE mailbox = ? AND status IN ('queued', 'sending')
                                AND decided_by IS NULL AND transmitting_at IS NULL`,
    [address],
  );
}

/** Replaces the named lists given (lists not named are left alone). */
export async function replaceContactLists(q: SqlTx, lists: Record<string, readonly string[]>): Promise<void> {
  for (const [name, members] of Object.entries(lists)) {
    await q.run('DELETE FROM contact_list_members WHERE list = ?', [name]);
    for (const a of members) {
      await q.run('INSERT INTO contact_list_members (list, address) VALUES (?, ?) ON CONFLICT DO NOTHING', [name, a.toLowerCase()]);
    }
  }
}

export async function contactLists(q: SqlTx): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  for (const r of await q.all<{ list: string; address: string }>('SELECT list, address FROM contact_list_members')) {
    let set = out.get(r.list);
    if (!set) out.set(r.list, (set = new Set()));
    set.add(r.address);
  }
  return out;
}

/** The subset of addresses this mailbox has corresponded with. */
export async function knownCorrespondents(q: SqlTx, mailbox: string, addresses: readonly string[]): Promise<Set<string>> {
  const known = new Set<string>();
  for (const a of addresses) {
    if ((await q.value('SELECT 1 FROM correspondents WHERE mailbox = ? AND address = ?', [mailbox, a])) !== undefined) known.add(a);
  }
  return known;
}

export async function recordCorrespondents(q: SqlTx, mailbox: string, addresses: readonly string[], now: number): Promise<void> {
  for (const a of addresses) {
    await q.run(
      `INSERT INTO correspondents (mailbox, address, first_seen, last_seen) VALUES (?, ?, ?, ?)
                           ON CONFLICT (mailbox, address) DO UPDATE SET last_seen = excluded.last_seen`,
      [mailbox, a.toLowerCase(), now, now],
    );
  }
}

/** The error for an unknown mailbox, listing those that exist. */
export async function unknownMailbox(q: SqlTx, address: string): Promise<MailgateError> {
  return unknownMailboxError(
    address,
    (await listMailboxRows(q)).map((m) => m.address),
  );
}
