/**
 * Personal data in the audit chain. In `hashed` mode the addresses, subjects and bodies an event mentions are
 * written to the chain as salted hashes (one random salt per message, kept on the message row; one per
 * database for events outside a message). Erasing a message (GDPR Art. 17) deletes its content and its salt:
 * the chain still verifies, since it only ever held the hashes, and the hashes can no longer be linked to
 * anyone (test/store/personal-data.test.ts). In `inline` mode (the default) the chain holds the values.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import { MailgateError } from '../errors.js';
import type { SqlTx } from './sql/types.js';

export type PersonalDataMode = 'inline' | 'hashed';

/** Detail keys whose values are personal data (at any depth). */
const PERSONAL_KEYS = new Set([
  'to',
  'cc',
  'bcc',
  'subject',
  'text',
  'html',
  'original',
  'edited',
  'recipients',
  'recipient',
  'added',
  'bounced',
  'accepted',
  'rejected',
  'captured',
  'delivered_locally',
  'value',
  'domains',
  'files',
  'attachments',
]);

const meta = (q: SqlTx, key: string) => q.value<string>('SELECT value FROM meta WHERE key = ?', [key]);
const setMeta = (q: SqlTx, key: string, value: string) =>
  q.run('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);

export async function personalDataMode(q: SqlTx): Promise<PersonalDataMode> {
  return (await meta(q, 'audit_personal_data')) === 'hashed' ? 'hashed' : 'inline';
}

export async function setPersonalDataMode(q: SqlTx, mode: PersonalDataMode): Promise<void> {
  await setMeta(q, 'audit_personal_data', mode);
}

export const newSalt = () => randomBytes(16).toString('hex');

async function saltFor(q: SqlTx, messageId: string | null | undefined): Promise<string> {
  if (messageId) {
    const salt = await q.value<string | null>('SELECT pii_salt FROM messages WHERE message_id = ?', [messageId]);
    // An erased message has no salt left: whatever is logged about it later is hashed with a throwaway one.
    return salt ?? newSalt();
  }
  let salt = await meta(q, 'audit_salt');
  if (!salt) await setMeta(q, 'audit_salt', (salt = newSalt()));
  return salt;
}

/** The detail as it goes into the chain: unchanged inline, personal values replaced by salted hashes when hashed. */
export async function protectDetail(q: SqlTx, messageId: string | null | undefined, detail: Record<string, unknown>): Promise<Record<string, unknown>> {
  if ((await personalDataMode(q)) === 'inline') return detail;
  const salt = await saltFor(q, messageId);
  const hash = (v: unknown) => `hmac-sha256:${createHmac('sha256', salt).update(canonicalJson(v)).digest('hex')}`;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, PERSONAL_KEYS.has(k) && x !== null ? hash(x) : walk(x)]));
  };
  return walk(detail) as Record<string, unknown>;
}

const FINAL = ['sent', 'failed', 'outcome_unknown', 'rejected', 'expired', 'cancelled', 'blocked'];

/**
 * Erases a message's personal data: recipients, subject, bodies, attachments, metadata, sandbox copies and
 * captured records, webhook payloads, and the salt. Status, times, decisions and hashes stay, so the record
 * of what happened (and the audit chain) survives. Only a message that will not change again can be erased.
 */
export async function eraseMessageData(q: SqlTx, id: string): Promise<{ status: string }> {
  const m = await q.get<{ status: string }>('SELECT status FROM messages WHERE message_id = ?', [id]);
  if (!m) throw new MailgateError('UNKNOWN_MESSAGE', `no outbound message '${id}'`, { field: 'message_id' });
  if (!FINAL.includes(m.status)) {
    throw new MailgateError('NOT_PENDING', `${id} is ${m.status}; erase it once it is decided and delivered (or expired)`, {
      field: 'message_id',
      details: { status: m.status },
    });
  }
  await q.run(
    `UPDATE messages SET to_addrs = '[]', cc_addrs = '[]', bcc_addrs = '[]', subject = '', text_body = NULL, html_body = NULL,
              original_content = NULL, metadata = NULL, attachments = '[]', tag_action = NULL, policy_hits = '[]', last_error = NULL,
              smtp_response = NULL, pii_salt = NULL WHERE message_id = ?`,
    [id],
  );
  await q.run('DELETE FROM message_attachments WHERE message_id = ?', [id]);
  await q.run('DELETE FROM message_recipients WHERE message_id = ?', [id]);
  await q.run('DELETE FROM captured_mail WHERE message_id = ?', [id]);
  await q.run('DELETE FROM emails WHERE outbound_message_id = ?', [id]);
  // The payload keeps only its type, written here rather than with SQLite's json_object so both backends
  // store the same text ({"type":...,"erased":true}).
  for (const e of await q.all<{ event_id: string; type: string }>('SELECT event_id, type FROM webhook_events WHERE message_id = ?', [id])) {
    await q.run('UPDATE webhook_events SET payload = ? WHERE event_id = ?', [JSON.stringify({ type: e.type, erased: true }), e.event_id]);
  }
  return m;
}
