/**
 * The token aggregate: principals' bearer tokens, kept as a sha256 only. Creating and revoking are audited
 * (token.created, token.revoked) with the name and roles, never the secret or its hash.
 */
import { MailgateError } from '../errors.js';
import type { Role } from '../values.js';
import { appendAudit } from './audit.js';
import { type Db, stmt } from './db.js';

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

export function insertToken(db: Db, t: NewToken, actor: string, now: number): TokenRecord {
  if (stmt(db, 'SELECT 1 FROM tokens WHERE name = ?').get(t.name)) {
    // Revoked tokens keep their name too: audit events name `token:NAME`, and one name must mean one token.
    throw new MailgateError(
      'INVALID_INPUT',
      `--name: a token named '${t.name}' already exists (names are never reused, even after revoking); choose another name`,
      { field: '--name' },
    );
  }
  stmt(
    db,
    `INSERT INTO tokens (token_id, name, roles, secret_hash, created_at, created_by, mailboxes)
            VALUES (@token_id, @name, @roles, @secret_hash, @created_at, @created_by, @mailboxes)`,
  ).run({ ...t, roles: JSON.stringify(t.roles), created_at: now, created_by: actor, mailboxes: t.mailboxes === null ? null : JSON.stringify(t.mailboxes) });
  appendAudit(db, { actor, action: 'token.created', detail: { token_id: t.token_id, name: t.name, roles: t.roles, mailboxes: t.mailboxes ?? 'all' } }, now);
  return getToken(db, t.token_id)!;
}

export function getToken(db: Db, tokenId: string): TokenRecord | undefined {
  const r = stmt(db, `SELECT ${COLUMNS} FROM tokens WHERE token_id = ?`).get(tokenId) as Row | undefined;
  return r && fromRow(r);
}

export function listTokens(db: Db): TokenRecord[] {
  return (stmt(db, `SELECT ${COLUMNS} FROM tokens ORDER BY created_at, name`).all() as Row[]).map(fromRow);
}

/** The token whose stored hash equals `secretHash` (revoked or not), with that hash for a constant-time recheck. */
export function findTokenByHash(db: Db, secretHash: string): (TokenRecord & { secret_hash: string }) | undefined {
  const r = stmt(db, `SELECT ${COLUMNS}, secret_hash FROM tokens WHERE secret_hash = ?`).get(secretHash) as (Row & { secret_hash: string }) | undefined;
  return r && { ...fromRow(r), secret_hash: r.secret_hash };
}

/** Records use of a live token, unless it was recorded in the last minute. Returns the token as it is now. */
export function touchToken(db: Db, tokenId: string, now: number): TokenRecord | undefined {
  stmt(
    db,
    `UPDATE tokens SET last_used_at = ? WHERE token_id = ? AND revoked_at IS NULL
            AND (last_used_at IS NULL OR last_used_at < ?)`,
  ).run(now, tokenId, now - 60_000);
  return getToken(db, tokenId);
}

/** Revokes by id or name. Revoking a revoked token changes nothing and records nothing. */
export function revokeToken(db: Db, idOrName: string, actor: string, now: number): TokenRecord {
  const r = stmt(db, `SELECT ${COLUMNS} FROM tokens WHERE token_id = ? OR name = ?`).get(idOrName, idOrName) as Row | undefined;
  if (!r) {
    const known = listTokens(db)
      .filter((t) => t.revoked_at === null)
      .map((t) => t.name);
    throw new MailgateError(
      'UNKNOWN_TOKEN',
      `no token named or with id '${idOrName}'; live tokens: ${known.length ? known.join(', ') : '(none)'} ('mailgate token list' shows them)`,
    );
  }
  const t = fromRow(r);
  if (t.revoked_at !== null) return t;
  stmt(db, 'UPDATE tokens SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL').run(now, t.token_id);
  appendAudit(db, { actor, action: 'token.revoked', detail: { token_id: t.token_id, name: t.name, roles: t.roles } }, now);
  return { ...t, revoked_at: now };
}
