/** The inbound email aggregate: what check_inbox, read_email and search_email read, per mailbox and folder. */
import { newEmailId } from '../ids.js';
import { type Db, stmt } from './db.js';
import type { TagAction } from './messages.js';

export interface InboundEmail {
  email_id: string;
  mailbox: string;
  folder: string;
  source: 'sandbox' | 'imap';
  from_addr: string;
  from_name: string | null;
  to: string[];
  cc: string[];
  subject: string;
  text: string | null;
  html: string | null;
  message_id_header: string | null;
  in_reply_to_header: string | null;
  references_header: string | null;
  flags: string[];
  unread: boolean;
  outbound_message_id: string | null;
  delivery_role: 'inbox' | 'sent' | null;
  uidvalidity: number | null;
  uid: number | null;
  size: number | null;
  has_body: boolean;
  attachments: { filename: string; content_type: string; size: number }[];
  date: number;
  received_at: number;
}

export type NewEmail = Omit<InboundEmail, 'email_id' | 'received_at' | 'flags' | 'unread' | 'uidvalidity' | 'uid' | 'size' | 'has_body' | 'attachments'> & {
  flags?: string[];
  attachments?: InboundEmail['attachments'];
};

type Row = Record<string, unknown>;

function fromRow(r: Row): InboundEmail {
  return {
    ...(r as unknown as InboundEmail),
    to: JSON.parse(String(r.to_addrs)) as string[],
    cc: JSON.parse(String(r.cc_addrs)) as string[],
    text: (r.text_body as string | null) ?? null,
    html: (r.html_body as string | null) ?? null,
    flags: JSON.parse(String(r.flags)) as string[],
    unread: r.unread === 1,
    has_body: r.has_body === 1,
    attachments: JSON.parse(String(r.attachments ?? '[]')) as InboundEmail['attachments'],
  };
}

/** Inserts an email; with an outbound_message_id a second delivery of the same message is ignored. */
export function insertEmail(db: Db, e: NewEmail, now: number): string | null {
  const flags = e.flags ?? [];
  const email_id = newEmailId();
  const info = stmt(
    db,
    `INSERT OR IGNORE INTO emails (email_id, mailbox, folder, source, from_addr, from_name, to_addrs, cc_addrs,
      subject, text_body, html_body, message_id_header, in_reply_to_header, references_header, flags, unread,
      outbound_message_id, delivery_role, date, received_at, attachments)
    VALUES (@email_id, @mailbox, @folder, @source, @from_addr, @from_name, @to_addrs, @cc_addrs, @subject, @text, @html,
      @message_id_header, @in_reply_to_header, @references_header, @flags, @unread, @outbound_message_id, @delivery_role, @date, @received_at,
      @attachments)`,
  ).run({
    ...e,
    attachments: JSON.stringify(e.attachments ?? []),
    email_id,
    to_addrs: JSON.stringify(e.to),
    cc_addrs: JSON.stringify(e.cc),
    flags: JSON.stringify(flags),
    unread: flags.includes('\\Seen') ? 0 : 1,
    received_at: now,
  });
  return info.changes === 1 ? email_id : null;
}

export function getEmailRow(db: Db, id: string): InboundEmail | undefined {
  const r = stmt(db, 'SELECT * FROM emails WHERE email_id = ?').get(id) as Row | undefined;
  return r && fromRow(r);
}

export function listEmailRows(db: Db, q: { mailbox: string; folder: string; unread_only: boolean; limit: number }): InboundEmail[] {
  const sql = `SELECT * FROM emails WHERE mailbox = ? AND folder = ? ${q.unread_only ? 'AND unread = 1' : ''}
               ORDER BY date DESC, received_at DESC LIMIT ?`;
  return (stmt(db, sql).all(q.mailbox, q.folder, q.limit) as Row[]).map(fromRow);
}

export function folderNames(db: Db, mailbox: string): string[] {
  return stmt(db, 'SELECT DISTINCT folder FROM emails WHERE mailbox = ? ORDER BY folder', true).all(mailbox) as string[];
}

/**
 * Full-text search over what has been synced (SQLite FTS5): every word of the query must match a word
 * prefix in the sender, recipients, subject or text. Words are quoted, so FTS syntax in a query is inert.
 */
export function searchEmailRows(db: Db, q: { mailbox: string; query: string; folder?: string | undefined; limit: number }): InboundEmail[] {
  const match = ftsQuery(q.query);
  if (!match) return [];
  const params: Row = { mailbox: q.mailbox, match, limit: q.limit };
  let folderClause = '';
  if (q.folder) {
    folderClause = 'AND e.folder = @folder';
    params.folder = q.folder;
  }
  const sql = `SELECT e.* FROM emails_fts f JOIN emails e ON e.rowid = f.rowid
    WHERE emails_fts MATCH @match AND e.mailbox = @mailbox ${folderClause}
    ORDER BY e.date DESC LIMIT @limit`;
  return (stmt(db, sql).all(params) as Row[]).map(fromRow);
}

/** Turns free text into an FTS5 query: each word a quoted prefix term, all required. */
function ftsQuery(text: string): string {
  const words = text.match(/[\p{L}\p{N}_]+/gu) ?? [];
  return words
    .slice(0, 20)
    .map((w) => `"${w}"*`)
    .join(' ');
}

/** Applies flag changes and a move to one email; `\Seen` drives the unread column. */
export function applyTagRow(db: Db, action: TagAction): InboundEmail | undefined {
  const email = getEmailRow(db, action.email_id);
  if (!email) return undefined;
  const flags = new Set(email.flags);
  for (const f of action.add_flags) flags.add(f);
  for (const f of action.remove_flags) flags.delete(f);
  const list = [...flags].sort();
  stmt(db, 'UPDATE emails SET flags = ?, unread = ?, folder = ? WHERE email_id = ?').run(
    JSON.stringify(list),
    flags.has('\\Seen') ? 0 : 1,
    action.move_to ?? email.folder,
    email.email_id,
  );
  return getEmailRow(db, email.email_id);
}

/** The first inbound email in this mailbox that threads to the given Message-ID (RFC 5322 §3.6.4). */
export function findReplyTo(db: Db, mailbox: string, messageIdHeader: string): InboundEmail | undefined {
  const r = stmt(
    db,
    `SELECT * FROM emails WHERE mailbox = ? AND folder <> 'Sent'
      AND (in_reply_to_header = ? OR instr(coalesce(references_header, ''), ?) > 0)
      ORDER BY date LIMIT 1`,
  ).get(mailbox, messageIdHeader, messageIdHeader) as Row | undefined;
  return r && fromRow(r);
}

export function insertCaptured(db: Db, messageId: string, recipients: readonly string[], now: number): void {
  const st = stmt(db, 'INSERT OR IGNORE INTO captured_mail (message_id, recipient, captured_at) VALUES (?, ?, ?)');
  for (const r of recipients) st.run(messageId, r, now);
}

export interface CapturedMail {
  message_id: string;
  mailbox: string;
  recipient: string;
  subject: string;
  captured_at: number;
}

export function listCapturedRows(db: Db, limit: number): CapturedMail[] {
  return stmt(
    db,
    `SELECT c.message_id, m.mailbox, c.recipient, m.subject, c.captured_at FROM captured_mail c
      JOIN messages m USING (message_id) ORDER BY c.captured_at DESC LIMIT ?`,
  ).all(limit) as CapturedMail[];
}

export function emailsByUid(db: Db, mailbox: string, folder: string, uids: readonly number[]): InboundEmail[] {
  if (uids.length === 0) return [];
  return (
    stmt(db, `SELECT * FROM emails WHERE mailbox = ? AND folder = ? AND uid IN (SELECT value FROM json_each(?))`).all(
      mailbox,
      folder,
      JSON.stringify(uids),
    ) as Row[]
  ).map(fromRow);
}

/**
 * The inbound emails of a thread (RFC 5322 §3.6.4): the root itself and every email that replies to it or
 * names it in References, oldest first. What a reply is compared with for the reviewer.
 */
export function threadEmailRows(db: Db, mailbox: string, threadKey: string, limit: number): InboundEmail[] {
  return (
    stmt(
      db,
      `SELECT * FROM emails WHERE mailbox = @mailbox AND (message_id_header = @key OR in_reply_to_header = @key
      OR instr(coalesce(references_header, ''), @key) > 0) ORDER BY date LIMIT @limit`,
    ).all({ mailbox, key: threadKey, limit }) as Row[]
  ).map(fromRow);
}
