/** The mailbox aggregate: rows, contact lists, and who each mailbox has corresponded with. */
import { type MailgateError, unknownMailboxError } from '../errors.js';
import type { PolicySettings } from '../gate/policy/index.js';
import type { AutoApproveRule } from '../gate/rules/index.js';
import type { OversightMode } from '../values.js';
import { type Db, stmt } from './db.js';

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

interface MailboxRow extends Omit<Mailbox, 'auto_approve_rules' | 'policy'> {
  auto_approve_rules: string;
  policy: string;
}

const fromRow = (r: MailboxRow): Mailbox => ({
  ...r,
  auto_approve_rules: JSON.parse(r.auto_approve_rules) as AutoApproveRule[],
  policy: JSON.parse(r.policy) as PolicySettings,
});
const toRow = (m: Mailbox) => ({
  ...m,
  auto_approve_rules: JSON.stringify(m.auto_approve_rules),
  policy: JSON.stringify(m.policy ?? {}),
  config_digest: m.config_digest ?? null,
});

export function getMailboxRow(db: Db, address: string): Mailbox | undefined {
  const row = stmt(db, 'SELECT * FROM mailboxes WHERE address = ?').get(address) as MailboxRow | undefined;
  return row && fromRow(row);
}

export function listMailboxRows(db: Db): Mailbox[] {
  return (stmt(db, 'SELECT * FROM mailboxes ORDER BY address').all() as MailboxRow[]).map(fromRow);
}

export function insertMailboxRow(db: Db, m: Mailbox): void {
  stmt(
    db,
    `INSERT INTO mailboxes (address, display_name, oversight_mode, mode_source, auto_approve_rules,
                pending_ttl_seconds, transport, policy, created_at, updated_at, config_digest)
              VALUES (@address, @display_name, @oversight_mode, @mode_source, @auto_approve_rules,
                @pending_ttl_seconds, @transport, @policy, @created_at, @updated_at, @config_digest)`,
  ).run(toRow(m));
}

export function updateMailboxRow(db: Db, m: Mailbox): void {
  stmt(
    db,
    `UPDATE mailboxes SET display_name = @display_name, oversight_mode = @oversight_mode, mode_source = @mode_source,
                auto_approve_rules = @auto_approve_rules, pending_ttl_seconds = @pending_ttl_seconds,
                transport = @transport, policy = @policy, updated_at = @updated_at, config_digest = @config_digest
              WHERE address = @address`,
  ).run(toRow(m));
}

/** Records which config file entry the mailbox now reflects; not a change to the mailbox, so not audited. */
export function setConfigDigest(db: Db, address: string, digest: string | null): void {
  stmt(db, 'UPDATE mailboxes SET config_digest = ? WHERE address = ?').run(digest, address);
}

const CHANGE_ACTIONS = ['mailbox.created', 'mailbox.updated', 'mailbox.mode_changed'];

/** Who last changed the mailbox and when, from the audit chain (the row itself does not keep the actor). */
export function lastMailboxChange(db: Db, address: string): { actor: string; at: number } | undefined {
  return stmt(
    db,
    `SELECT actor, at FROM audit_events WHERE mailbox = ? AND action IN (${CHANGE_ACTIONS.map(() => '?').join(', ')})
                   ORDER BY seq DESC LIMIT 1`,
  ).get(address, ...CHANGE_ACTIONS) as { actor: string; at: number } | undefined;
}

/** Replaces the named lists given (lists not named are left alone). */
export function replaceContactLists(db: Db, lists: Record<string, readonly string[]>): void {
  const del = stmt(db, 'DELETE FROM contact_list_members WHERE list = ?');
  const ins = stmt(db, 'INSERT OR IGNORE INTO contact_list_members (list, address) VALUES (?, ?)');
  for (const [name, members] of Object.entries(lists)) {
    del.run(name);
    for (const a of members) ins.run(name, a.toLowerCase());
  }
}

export function contactLists(db: Db): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of stmt(db, 'SELECT list, address FROM contact_list_members').all() as { list: string; address: string }[]) {
    let set = out.get(r.list);
    if (!set) out.set(r.list, (set = new Set()));
    set.add(r.address);
  }
  return out;
}

/** The subset of addresses this mailbox has corresponded with. */
export function knownCorrespondents(db: Db, mailbox: string, addresses: readonly string[]): Set<string> {
  const st = stmt(db, 'SELECT 1 FROM correspondents WHERE mailbox = ? AND address = ?', true);
  return new Set(addresses.filter((a) => st.get(mailbox, a) !== undefined));
}

export function recordCorrespondents(db: Db, mailbox: string, addresses: readonly string[], now: number): void {
  const st = stmt(
    db,
    `INSERT INTO correspondents (mailbox, address, first_seen, last_seen) VALUES (?, ?, ?, ?)
                           ON CONFLICT (mailbox, address) DO UPDATE SET last_seen = excluded.last_seen`,
  );
  for (const a of addresses) st.run(mailbox, a.toLowerCase(), now, now);
}

/** The error for an unknown mailbox, listing those that exist. */
export function unknownMailbox(db: Db, address: string): MailgateError {
  return unknownMailboxError(
    address,
    listMailboxRows(db).map((m) => m.address),
  );
}
