/**
 * The token aggregate: principals' bearer tokens, kept as a sha256 only. Creating and revoking are audited
 * (token.created, token.revoked) with the name and roles, never the secret or its hash.
 */
import { MailgateError } from '../errors.js';
import type { Role } from '../values.js';
import { appendAudit } from './audit.js';
import type { SqlTx } from './sql/types.js';

export interface TokenRecord {
  token_id: string;
  name: string;
  roles: Role[];
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
  /** The mailboxes the token may act on; null for every mailbox (`--all-mailboxes`, or made before binding existed). */
  mailboxes: string[] | null;
}

export interface NewToken {
  token_id: string;
  name: string;
  roles: Role[];
  secret_hash: string;
  mailboxes: string[] | null;
}

/** Without secret_hash: nothing read through here can leak it. */
const COLUMNS = 'token_id, name, roles, created_at, created_by, last_used_at, revoked_at, mailboxes';

type Row = Omit<TokenRecord, 'roles' | 'mailboxes'> & { roles: string; mailboxes: string | null };
const fromRow = (r: Row): TokenRecord => ({
  ...r,
  roles: JSON.parse(r.roles) as Role[],
  mailboxes: r.mailboxes === null ? null : (JSON.parse(r.mailboxes) as string[]),
});

export async function insertToken(q: SqlTx, t: NewToken, actor: string, now: number): Promise<TokenRecord> {
  if ((await q.value('SELECT 1 FROM tokens WHERE name = ?', [t.name])) !== undefined) {
    // Revoked tokens keep their name too: audit events name `token:NAME`, and one name must mean one token.
    throw new MailgateError(
      'INVALID_INPUT',
      `--name: a token named '${t.name}' already exists (names are never reused, even after revoking); choose another name`,
      { field: '--name' },
    );
  }
  await q.run(
    `INSERT INTO tokens (token_id, name, roles, secret_hash, created_at, created_by, mailboxes)
            VALUES (@token_id, @name, @roles, @secret_hash, @created_at, @created_by, @mailboxes)`,
    { ...t, roles: JSON.stringify(t.roles), created_at: now, created_by: actor, mailboxes: t.mailboxes === null ? null : JSON.stringify(t.mailboxes) },
  );
  await appendAudit(
    q,
    { actor, action: 'token.created', detail: { token_id: t.token_id, name: t.name, roles: t.roles, mailboxes: t.mailboxes ?? 'all' } },
    now,
  );
  return (await getToken(q, t.token_id))!;
}

export async function getToken(q: SqlTx, tokenId: string): Promise<TokenRecord | undefined> {
  const r = await q.get<Row>(`SELECT ${COLUMNS} FROM tokens WHERE token_id = ?`, [tokenId]);
  return r && fromRow(r);
}

export async function listTokens(q: SqlTx): Promise<TokenRecord[]> {
  return (await q.all<Row>(`SELECT ${COLUMNS} FROM tokens ORDER BY created_at, name`)).map(fromRow);
}

/** The token whose stored hash equals `secretHash` (revoked or not), with that hash for a constant-time recheck. */
export async function findTokenByHash(q: SqlTx, secretHash: string): Promise<(TokenRecord & { secret_hash: string }) | undefined> {
  const r = await q.get<Row & { secret_hash: string }>(`SELECT ${COLUMNS}, secret_hash FROM tokens WHERE secret_hash = ?`, [secretHash]);
  return r && { ...fromRow(r), secret_hash: r.secret_hash };
}

/** Records use of a live token, unless it was recorded in the last minute. Returns the token as it is now. */
export async function touchToken(q: SqlTx, tokenId: string, now: number): Promise<TokenRecord | undefined> {
  await q.run(
    `UPDATE tokens SET last_used_at = ? WHERE token_id = ? AND revoked_at IS NULL
            AND (last_used_at IS NULL OR last_used_at < ?)`,
    [now, tokenId, now - 60_000],
  );
  return getToken(q, tokenId);
}

/** Revokes by id or name. Revoking a revoked token changes nothing and records nothing. */
export async function revokeToken(q: SqlTx, idOrName: string, actor: string, now: number): Promise<TokenRecord> {
  const r = await q.get<Row>(`SELECT ${COLUMNS} FROM tokens WHERE token_id = ? OR name = ?`, [idOrName, idOrName]);
  if (!r) {
    const known = (await listTokens(q)).filter((t) => t.revoked_at === null).map((t) => t.name);
    throw new MailgateError(
      'UNKNOWN_TOKEN',
      `no token named or with id '${idOrName}'; live tokens: ${known.length ? known.join(', ') : '(none)'} ('mailgate token list' shows them)`,
    );
  }
  const t = fromRow(r);
  if (t.revoked_at !== null) return t;
  await q.run('UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL', [now, t.token_id]);
  await appendAudit(q, { actor, action: 'token.revoked', detail: { token_id: t.token_id, name: t.name, roles: t.roles } }, now);
  return { ...t, revoked_at: now };
}
