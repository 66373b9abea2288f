/** The inbound email aggregate: what check_inbox, read_email and search_email read, per mailbox and folder. */
import { foldWord } from './pg/fold.js';
import { newEmailId } from '../ids.js';
import type { TagAction } from './messages.js';
import type { Dialect, SqlTx } from './sql/types.js';

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
export async function insertEmail(q: SqlTx, e: NewEmail, now: number): Promise<string | null> {
  const flags = e.flags ?? [];
  const email_id = newEmailId();
  const info = await q.run(
    `INSERT INTO emails (email_id, mailbox, folder, source, from_addr, from_name, to_addrs, cc_addrs,
      subject, text_body, html_body, message_id_header, in_reply_to_header, references_header, flags, unread,
      outbound_message_id, delivery_role, date, received_at, attachments)
    VALUES (@email_id, @mailbox, @folder, @source, @from_addr, @from_name, @to_addrs, @cc_addrs, @subject, @text, @html,
      @message_id_header, @in_reply_to_header, @references_header, @flags, @unread, @outbound_message_id, @delivery_role, @date, @received_at,
      @attachments)
    ON CONFLICT DO NOTHING`,
    {
      ...e,
      attachments: JSON.stringify(e.attachments ?? []),
      email_id,
      to_addrs: JSON.stringify(e.to),
      cc_addrs: JSON.stringify(e.cc),
      flags: JSON.stringify(flags),
      unread: flags.includes('\\Seen') ? 0 : 1,
      received_at: now,
    },
  );
  return info.changes === 1 ? email_id : null;
}

export async function getEmailRow(q: SqlTx, id: string): Promise<InboundEmail | undefined> {
  const r = await q.get<Row>('SELECT * FROM emails WHERE email_id = ?', [id]);
  return r && fromRow(r);
}

export async function listEmailRows(q: SqlTx, query: { mailbox: string; folder: string; unread_only: boolean; limit: number }): Promise<InboundEmail[]> {
  const sql = `SELECT * FROM emails WHERE mailbox = ? AND folder = ? ${query.unread_only ? 'AND unread = 1' : ''}
               ORDER BY date DESC, received_at DESC LIMIT ?`;
  return (await q.all<Row>(sql, [query.mailbox, query.folder, query.limit])).map(fromRow);
}

export function folderNames(q: SqlTx, mailbox: string): Promise<string[]> {
  return q.column<string>('SELECT DISTINCT folder FROM emails WHERE mailbox = ? ORDER BY folder', [mailbox]);
}

/** search_email's filters, each narrowing the result; absent ones do not. */
export interface SearchFilters {
  /** Substrings, case-insensitive (as IMAP SEARCH FROM/TO/SUBJECT, RFC 3501 §6.4.4). */
  from?: string | undefined;
  to?: string | undefined;
  subject?: string | undefined;
  /** Epoch ms: date >= since, date < before. */
  since?: number | undefined;
  before?: number | undefined;
  unread?: boolean | undefined;
  flagged?: boolean | undefined;
  /** Decided only for emails whose body is indexed (has_body): an envelope does not list attachments. */
  has_attachment?: boolean | undefined;
}

export interface SearchQuery {
  mailbox: string;
  /** Free text; absent (or without words) when only filters are given. */
  query?: string | undefined;
  folder?: string | undefined;
  filters?: SearchFilters | undefined;
  limit: number;
}

/**
 * Full-text search over what has been synced: every word of the query must match a word prefix in the
 * sender, recipients, subject or text. SQLite answers from its FTS5 index (emails_fts), PostgreSQL from the
 * emails.search_vector tsvector column (GIN index); both take the query as words, so search syntax in a query
 * is inert. Filters narrow it (or, with no query, select alone) in plain SQL that both dialects run.
 */
export async function searchEmailRows(q: SqlTx, query: SearchQuery): Promise<InboundEmail[]> {
  const params: Row = { mailbox: query.mailbox, limit: query.limit };
  const where = [...filterClauses(q.dialect, query.filters ?? {}, params)];
  if (query.folder) {
    where.push('e.folder = @folder');
    params.folder = query.folder;
  }
  const extra = where.map((w) => `AND ${w}`).join(' ');
  if (query.query === undefined) {
    const sql = `SELECT e.* FROM emails e WHERE e.mailbox = @mailbox ${extra} ORDER BY e.date DESC, e.received_at DESC LIMIT @limit`;
    return (await q.all<Row>(sql, params)).map(fromRow);
  }
  const words = queryWords(query.query);
  const match = q.dialect.name === 'sqlite' ? ftsQuery(words) : tsQuery(words);
  if (!match) return [];
  params.match = match;
  const sql =
    q.dialect.name === 'sqlite'
      ? `SELECT e.* FROM emails_fts f JOIN emails e ON e.rowid = f.rowid
    WHERE emails_fts MATCH @match AND e.mailbox = @mailbox ${extra}
    ORDER BY e.date DESC LIMIT @limit`
      : `SELECT e.* FROM emails e
    WHERE e.search_vector @@ to_tsquery('simple', @match) AND e.mailbox = @mailbox ${extra}
    ORDER BY e.date DESC LIMIT @limit`;
  return (await q.all<Row>(sql, params)).map(fromRow);
}

/** A LIKE pattern for a literal substring: `%`, `_` and the escape itself are escaped (ESCAPE '!'). */
const likePattern = (text: string) => `%${text.toLowerCase().replace(/[!%_]/g, (c) => `!${c}`)}%`;

/**
 * The WHERE conditions of the filters, their values put in `params`. lower() on both sides: SQLite's LIKE folds
 * ASCII case only and PostgreSQL's none. Flags and attachments are JSON text in both dialects.
 */
function* filterClauses(d: Dialect, f: SearchFilters, params: Row): Generator<string> {
  const texts = [
    ['from_like', "e.from_addr || ' ' || COALESCE(e.from_name, '')", f.from],
    ['to_like', 'e.to_addrs', f.to],
    ['subject_like', 'e.subject', f.subject],
  ] as const;
  for (const [name, column, value] of texts) {
    if (value === undefined) continue;
    params[name] = likePattern(value);
    yield `lower(${column}) LIKE @${name} ESCAPE '!'`;
  }
  if (f.since !== undefined) {
    params.since = f.since;
    yield 'e.date >= @since';
  }
  if (f.before !== undefined) {
    params.before = f.before;
    yield 'e.date < @before';
  }
  if (f.unread !== undefined) yield f.unread ? 'e.unread = 1' : 'e.unread = 0';
  if (f.flagged !== undefined) {
    // The flags column holds JSON: \Flagged is stored as "\\Flagged".
    params.flagged_json = JSON.stringify('\\Flagged');
    yield `${f.flagged ? '' : 'NOT '}${contains(d, 'e.flags', '@flagged_json')}`;
  }
  if (f.has_attachment !== undefined) yield `e.has_body = 1 AND COALESCE(e.attachments, '[]') ${f.has_attachment ? '<>' : '='} '[]'`;
}

/** The words of a search, at most 20: what both backends' queries are built from. */
const queryWords = (text: string): string[] => (text.match(/[\p{L}\p{N}_]+/gu) ?? []).slice(0, 20);

/** Turns the words into an FTS5 query: each word a quoted prefix term, all required. */
function ftsQuery(words: readonly string[]): string {
  return words.map((w) => `"${w}"*`).join(' ');
}

/**
 * The same query for PostgreSQL's to_tsquery. unicode61 splits `foo_bar` into two tokens and FTS5 reads
 * `"foo_bar"*` as the phrase foo followed by a prefix of bar; search_vector is built with punctuation
 * (underscore included) turned into spaces, so the word becomes `foo <-> bar:*` here; its diacritics are folded by
 * the table the column uses (pg/fold.ts).
 */
function tsQuery(words: readonly string[]): string {
  return words
    .map((w) => w.split('_').filter((p) => p !== ''))
    .filter((parts) => parts.length > 0)
    .map((parts) => `(${parts.map((p, i) => (i === parts.length - 1 ? `${foldWord(p)}:*` : foldWord(p))).join(' <-> ')})`)
    .join(' & ');
}

/**
 * Applies flag changes and a move to one email; `\Seen` drives the unread column. A sandbox delete_email moves it
 * to the folder named Trash, or removes the row for good (the FTS index follows by trigger).
 */
export async function applyTagRow(q: SqlTx, action: TagAction): Promise<InboundEmail | undefined> {
  const email = await getEmailRow(q, action.email_id);
  if (!email) return undefined;
  if (action.delete === 'permanent') {
    await q.run('DELETE FROM emails WHERE email_id = ?', [email.email_id]);
    return undefined;
  }
  if (action.delete === 'trash') action = { ...action, move_to: 'Trash' };
  const flags = new Set(email.flags);
  for (const f of action.add_flags) flags.add(f);
  for (const f of action.remove_flags) flags.delete(f);
  const list = [...flags].sort();
  await q.run('UPDATE emails SET flags = ?, unread = ?, folder = ? WHERE email_id = ?', [
    JSON.stringify(list),
    flags.has('\\Seen') ? 0 : 1,
    action.move_to ?? email.folder,
    email.email_id,
  ]);
  return getEmailRow(q, email.email_id);
}

/**
 * `haystack` contains `needle` as an exact, case-sensitive substring. LIKE would read `_` and `%` in a
 * Message-ID as wildcards (and folds case on SQLite), and the two dialects name the function differently.
 */
const contains = (d: Dialect, haystack: string, needle: string) =>
  d.name === 'sqlite' ? `instr(${haystack}, ${needle}) > 0` : `strpos(${haystack}, ${needle}) > 0`;

/** The first inbound email in this mailbox that threads to the given Message-ID (RFC 5322 §3.6.4). */
export async function findReplyTo(q: SqlTx, mailbox: string, messageIdHeader: string): Promise<InboundEmail | undefined> {
  const r = await q.get<Row>(
    `SELECT * FROM emails WHERE mailbox = @mailbox AND folder <> 'Sent'
      AND (in_reply_to_header = @header OR ${contains(q.dialect, "COALESCE(references_header, '')", '@header')})
      ORDER BY date LIMIT 1`,
    { mailbox, header: messageIdHeader },
  );
  return r && fromRow(r);
}

export async function insertCaptured(q: SqlTx, messageId: string, recipients: readonly string[], now: number): Promise<void> {
  for (const r of recipients) {
    await q.run('INSERT INTO captured_mail (message_id, recipient, captured_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [messageId, r, now]);
  }
}

export interface CapturedMail {
  message_id: string;
  mailbox: string;
  recipient: string;
  subject: string;
  captured_at: number;
}

export function listCapturedRows(q: SqlTx, limit: number): Promise<CapturedMail[]> {
  return q.all<CapturedMail>(
    `SELECT c.message_id, m.mailbox, c.recipient, m.subject, c.captured_at FROM captured_mail c
      JOIN messages m USING (message_id) ORDER BY c.captured_at DESC LIMIT ?`,
    [limit],
  );
}

export async function emailsByUid(q: SqlTx, mailbox: string, folder: string, uids: readonly number[]): Promise<InboundEmail[]> {
  if (uids.length === 0) return [];
  return (
    await q.all<Row>(`SELECT * FROM emails WHERE mailbox = @mailbox AND folder = @folder AND uid IN ${q.dialect.jsonList('@uids', 'int')}`, {
      mailbox,
      folder,
      uids: JSON.stringify(uids),
    })
  ).map(fromRow);
}

/**
 * The inbound emails of a thread (RFC 5322 §3.6.4): the root itself and every email that replies to it or
 * names it in References, oldest first. What a reply is compared with for the reviewer.
 */
export async function threadEmailRows(q: SqlTx, mailbox: string, threadKey: string, limit: number): Promise<InboundEmail[]> {
  return (
    await q.all<Row>(
      `SELECT * FROM emails WHERE mailbox = @mailbox AND (message_id_header = @key OR in_reply_to_header = @key
      OR ${contains(q.dialect, "COALESCE(references_header, '')", '@key')}) ORDER BY date LIMIT @limit`,
      { mailbox, key: threadKey, limit },
    )
  ).map(fromRow);
}
