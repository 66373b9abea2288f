/**
 * `mailgate token create | list | revoke`: principals' bearer tokens. The secret is printed once, at
 * creation; list and revoke never show it (only its hash exists).
 */
import type { App } from '../app.js';
import { parseRoles } from '../auth/principal.js';
import { invalid } from '../errors.js';
import type { Principal } from '../services/context.js';
import { createToken, listTokens, revokeToken } from '../services/tokens.js';
import type { TokenRecord } from '../store/store.js';
import { printJson, printLine, printTable } from './output.js';

export interface TokenFlags {
  json?: boolean | undefined;
  role?: string | undefined;
  name?: string | undefined;
  mailbox?: string[] | undefined;
  'all-mailboxes'?: boolean | undefined;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toRow(t: TokenRecord) {
  return {
    token_id: t.token_id,
    name: t.name,
    roles: t.roles,
    mailboxes: t.mailboxes ?? 'all',
    created_at: iso(t.created_at),
    created_by: t.created_by,
    last_used_at: iso(t.last_used_at),
    revoked_at: iso(t.revoked_at),
  };
}

/** A token's mailboxes: those named, or every one, which the operator must ask for by name. */
function scopeFrom(flags: TokenFlags): string[] | 'all' {
  const named = flags.mailbox ?? [];
  if (flags['all-mailboxes'] && named.length) throw invalid('--all-mailboxes', 'give either --mailbox (one or more) or --all-mailboxes, not both');
  if (flags['all-mailboxes']) return 'all';
  if (!named.length) {
    throw invalid(
      '--mailbox',
      "say which mailboxes the token may act on: --mailbox ADDRESS (repeat it for several), or --all-mailboxes for every one; 'mailgate mailbox list' shows them",
    );
  }
  return named;
}

export async function tokenCommand(app: App, who: Principal, sub: string | undefined, args: string[], flags: TokenFlags): Promise<void> {
  if (sub === 'create') {
    if (!flags.role) throw invalid('--role', 'give the roles the token grants, e.g. --role reviewer or --role agent,reviewer');
    if (!flags.name) throw invalid('--name', 'name the token after who or what holds it, e.g. --name alice-desktop');
    const { token, record } = await createToken(app, who, { name: flags.name, roles: parseRoles(flags.role), mailboxes: scopeFrom(flags) });
    const mailboxes = record.mailboxes ?? 'all';
    if (flags.json) return printJson({ token, name: record.name, roles: record.roles, mailboxes, token_id: record.token_id });
    printLine(
      `Created token '${record.name}' (${record.token_id}), roles ${record.roles.join(', ')}, ` +
        `${mailboxes === 'all' ? 'every mailbox' : `mailboxes ${mailboxes.join(', ')}`}. It is shown only this once:\n`,
    );
    printLine(`  ${token}\n`);
    printLine('Give it to the MCP server as the environment variable MAILGATE_TOKEN (README, "Roles and tokens").');
    return;
  }
  if (sub === 'list' || sub === undefined) {
    const rows = (await listTokens(app, who)).map(toRow);
    if (flags.json) return printJson({ tokens: rows });
    return printTable(rows, ['token_id', 'name', 'roles', 'mailboxes', 'created_at', 'created_by', 'last_used_at', 'revoked_at']);
  }
  if (sub === 'revoke') {
    if (!args[0]) throw invalid('token', "name the token to revoke: 'mailgate token revoke NAME' (or its tok_ id)");
    const before = app.clock();
    const t = await revokeToken(app, who, args[0]);
    if (flags.json) return printJson(toRow(t));
    return printLine(t.revoked_at! < before ? `token '${t.name}' was already revoked at ${iso(t.revoked_at)}` : `revoked token '${t.name}' (${t.token_id})`);
  }
  throw invalid('token', `unknown subcommand '${sub}'; use create, list or revoke`);
}
