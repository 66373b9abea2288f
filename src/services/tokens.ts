/**
 * Principal tokens: created and revoked by a person at the terminal, presented by an MCP client through
 * MAILGATE_TOKEN. The secret is shown once at creation and never stored, logged or audited.
 */
import { hashSecret, newTokenSecret, sameDigest, TOKEN_PREFIX } from '../auth/secrets.js';
import { TOKEN_NAME_RE } from '../auth/principal.js';
import { invalid, MailgateError } from '../errors.js';
import { newTokenId } from '../ids.js';
import type { TokenRecord } from '../store/store.js';
import type { Role } from '../values.js';
import type { AppContext, MailboxScope, Principal } from './context.js';
import { requireRole } from './context.js';
import { refuseIfCanDraft } from './needs-person.js';
import { getMailboxOrThrow, requireAllMailboxes } from './scope.js';

export interface CreatedToken {
  /** The bearer secret: shown to the person once, then only its hash exists. */
  token: string;
  record: TokenRecord;
}

export interface TokenInput {
  name: string;
  roles: Role[];
  /** The mailboxes the token may act on (each must exist), or 'all', which the operator must ask for by name. */
  mailboxes: MailboxScope;
}

export async function createToken(ctx: AppContext, who: Principal, input: TokenInput): Promise<CreatedToken> {
  await requireRole(ctx, who, ['operator'], 'creating tokens');
  await requireAllMailboxes(ctx, who, 'creating tokens');
  // A token is a new principal: one minted by a session that can draft would let its model approve its own mail.
  refuseIfCanDraft(who, 'creating a token', [
    'token',
    'create',
    '--role',
    input.roles.join(','),
    '--name',
    input.name,
    ...(input.mailboxes === 'all' ? ['--all-mailboxes'] : input.mailboxes.flatMap((m) => ['--mailbox', m])),
  ]);
  if (!TOKEN_NAME_RE.test(input.name)) {
    throw invalid('--name', 'use 1 to 100 letters, digits and . _ @ - (starting with a letter or digit), e.g. --name alice-desktop');
  }
  let mailboxes: string[] | null = null;
  if (input.mailboxes !== 'all') {
    if (input.mailboxes.length === 0) throw invalid('--mailbox', 'name at least one mailbox (repeat --mailbox for several), or give --all-mailboxes');
    mailboxes = [];
    for (const address of input.mailboxes) mailboxes.push((await getMailboxOrThrow(ctx, who, address)).address);
    mailboxes = [...new Set(mailboxes)];
  }
  const token = newTokenSecret();
  const record = await ctx.store.createToken(
    { token_id: newTokenId(), name: input.name, roles: input.roles, secret_hash: hashSecret(token), mailboxes },
    who.id,
    ctx.clock(),
  );
  return { token, record };
}

export async function listTokens(ctx: AppContext, who: Principal): Promise<TokenRecord[]> {
  await requireRole(ctx, who, ['operator'], 'listing tokens');
  return ctx.store.listTokens();
}

export async function revokeToken(ctx: AppContext, who: Principal, idOrName: string): Promise<TokenRecord> {
  await requireRole(ctx, who, ['operator'], 'revoking tokens');
  return ctx.store.revokeToken(idOrName, who.id, ctx.clock());
}

export interface TokenPrincipal {
  token_id: string;
  name: string;
  roles: Role[];
  mailboxes: MailboxScope;
}

/**
 * The principal a presented token stands for; `what` names where it came from in the error (the environment
 * variable on stdio, the bearer header over HTTP, the sign-in form). Errors never repeat the token: they end up on stderr, in
 * client logs and in bug reports.
 */
export async function resolveToken(ctx: AppContext, token: string, what = 'MAILGATE_TOKEN'): Promise<TokenPrincipal> {
  const secret = token.trim();
  const hint = secret.startsWith(TOKEN_PREFIX) ? '' : ` (mailgate tokens start with '${TOKEN_PREFIX}')`;
  const hash = hashSecret(secret);
  const found = await ctx.store.findTokenByHash(hash);
  if (!found || !sameDigest(found.secret_hash, hash)) {
    throw new MailgateError(
      'UNAUTHENTICATED',
      `${what} is not a token of this database${hint}; check it was copied whole and that --db or --config name the database it was created in ('mailgate token list')`,
    );
  }
  await assertTokenLive(ctx, found.token_id);
  return { token_id: found.token_id, name: found.name, roles: found.roles, mailboxes: found.mailboxes ?? 'all' };
}

/** Refuses a token revoked since the session started, so revoking takes effect at a session's next call. */
export async function assertTokenLive(ctx: AppContext, tokenId: string): Promise<void> {
  const now = ctx.clock();
  let t = await ctx.store.getToken(tokenId);
  // last_used_at is written at most once a minute: a write lock on every tool call would contend with the
  // mail transactions for a timestamp nobody needs to the second.
  if (t && t.revoked_at === null && (t.last_used_at === null || t.last_used_at < now - 60_000)) t = await ctx.store.touchToken(tokenId, now);
  if (!t || t.revoked_at !== null) {
    const when = t?.revoked_at ? ` at ${new Date(t.revoked_at).toISOString()}` : '';
    throw new MailgateError(
      'UNAUTHENTICATED',
      `the token '${t?.name ?? tokenId}' was revoked${when}; a person can create a new one with 'mailgate token create' and restart the server with it`,
    );
  }
}
