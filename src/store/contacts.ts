/**
 * A mailbox's address book (manage_contacts): names and addresses an agent keeps for its own use. It is not the
 * operator's contact lists (contact_lists in the config), which auto-approve rules read: nothing an agent writes
 * here can widen what is sent without a person (README "Contacts").
 */
import { appendAudit } from './audit.js';
import type { SqlTx } from './sql/types.js';

export interface Contact {
  mailbox: string;
  address: string;
  name: string | null;
  created_at: number;
  created_by: string;
  updated_at: number;
}

/** The operations the Store offers on address books (store.ts extends this). */
export interface ContactStore {
  /** Contacts of a mailbox by address, or those whose name or address contains `query` (case-insensitive). */
  listContacts(mailbox: string, query: string | null, limit: number): Promise<Contact[]>;
  /** Adds a contact or renames it (audited contact.added); `changed` false when it was already there so named. */
  saveContact(c: { mailbox: string; address: string; name: string | null }, actor: string, now: number): Promise<{ contact: Contact; changed: boolean }>;
  /** Removes a contact (audited contact.removed); false when there was none. */
  removeContact(mailbox: string, address: string, actor: string, now: number): Promise<boolean>;
}

export async function listContactRows(q: SqlTx, mailbox: string, query: string | null, limit: number): Promise<Contact[]> {
  // LIKE with the caller's text as a bound parameter; its own % and _ are escaped, so they match themselves.
  const like = query === null ? null : `%${query.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return q.all<Contact>(
    `SELECT mailbox, address, name, created_at, created_by, updated_at FROM contacts
      WHERE mailbox = @mailbox AND (@like IS NULL OR address LIKE @like ESCAPE '\\' OR lower(COALESCE(name, '')) LIKE @like ESCAPE '\\')
      ORDER BY address LIMIT @limit`,
    { mailbox, like, limit },
  );
}

export async function saveContactRow(
  q: SqlTx,
  c: { mailbox: string; address: string; name: string | null },
  actor: string,
  now: number,
): Promise<{ contact: Contact; changed: boolean }> {
  const before = await q.get<Contact>('SELECT * FROM contacts WHERE mailbox = ? AND address = ?', [c.mailbox, c.address]);
  if (before && before.name === c.name) return { contact: before, changed: false };
  if (before) await q.run('UPDATE contacts SET name = ?, updated_at = ? WHERE mailbox = ? AND address = ?', [c.name, now, c.mailbox, c.address]);
  else
    await q.run('INSERT INTO contacts (mailbox, address, name, created_at, created_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
      c.mailbox,
      c.address,
      c.name,
      now,
      actor,
      now,
    ]);
  const detail = { address: c.address, name: c.name, ...(before ? { previous_name: before.name } : {}) };
  await appendAudit(q, { actor, action: 'contact.added', mailbox: c.mailbox, detail }, now);
  return { contact: (await q.get<Contact>('SELECT * FROM contacts WHERE mailbox = ? AND address = ?', [c.mailbox, c.address]))!, changed: true };
}

export async function removeContactRow(q: SqlTx, mailbox: string, address: string, actor: string, now: number): Promise<boolean> {
  const removed = (await q.run('DELETE FROM contacts WHERE mailbox = ? AND address = ?', [mailbox, address])).changes === 1;
  if (removed) await appendAudit(q, { actor, action: 'contact.removed', mailbox, detail: { address } }, now);
  return removed;
}
