/** Roles are filters on tool metadata: a role sees, and may call, only the tools whose access it holds. */
import type { Role } from '../values.js';
import type { Access } from './define-tool.js';

const ROLE_ACCESS: Readonly<Record<Role, readonly Access[]>> = {
  agent: ['read', 'write', 'queue'],
  reviewer: ['queue', 'review', 'audit'],
  operator: ['admin', 'audit'],
};

export function roleAllows(roles: readonly Role[], access: Access): boolean {
  return roles.some((r) => ROLE_ACCESS[r].includes(access));
}
