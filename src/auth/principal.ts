/**
 * Who is acting, as the services and the audit log see it. Principal ids: `token:NAME[/client]` (a session
 * bound to a token), `cli:NAME` (the person at the terminal), `mcp:ROLES[/client]` (a stdio session without a
 * token: a label the client chose, not an identity).
 */
import { MailgateError } from '../errors.js';
import { ROLES, type Role } from '../values.js';

/** Token names end up in principal ids (`token:NAME/client`), so no slash and no spaces. */
export const TOKEN_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

/** `agent`, `reviewer,agent`, ... -> a deduplicated list in ROLES order. */
export function parseRoles(value: string, flag = '--role'): Role[] {
  const asked = value
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const bad = asked.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (asked.length === 0 || bad.length) {
    const what = bad.length ? `'${bad.join("', '")}' is not a role` : 'no role given';
    throw new MailgateError('INVALID_INPUT', `${flag}: ${what}; use one or more of ${ROLES.join(', ')}, comma-separated (e.g. agent,reviewer)`, {
      field: flag,
    });
  }
  return ROLES.filter((r) => asked.includes(r));
}

/**
 * A session that can both draft mail (agent) and decide it (reviewer or operator): the model in it could
 * approve its own drafts, so its approvals need a person's confirmation.
 */
export function canDraftAndDecide(roles: readonly Role[]): boolean {
  return roles.includes('agent') && (roles.includes('reviewer') || roles.includes('operator'));
}

/**
 * The person behind a principal id, for the four-eyes rule: the token name or the CLI name (the same
 * person when they match), else the whole id. The client name after '/' is dropped: one token in two
 * clients is still one person.
 */
export function personOf(principalId: string): string {
  const m = /^(?:token|cli):([^/]+)/.exec(principalId);
  return m ? m[1]! : principalId;
}

/** The token name in a `token:NAME[/client]` principal id, if it is one. */
export function tokenNameOf(principalId: string): string | undefined {
  return /^token:([^/]+)/.exec(principalId)?.[1];
}
