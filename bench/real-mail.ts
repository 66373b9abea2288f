/**
 * The bench uses the test suite's private Dovecot and Postfix harness (test/helpers/mail-servers.ts, which
 * tsconfig compiles alongside the bench), so both run against the same server configuration. This adapter
 * gives the bench users by local part and the owner of the Maildirs it seeds directly.
 */
import { readFileSync } from 'node:fs';
import { startMailServers as start, type MailServers as Servers, type MailUser } from '../test/helpers/mail-servers.js';

export { mailServersAvailable, type MailUser } from '../test/helpers/mail-servers.js';

export const LOOPBACK = '127.0.0.1' as const;

export interface MailServers extends Omit<Servers, 'users'> {
  users: Record<string, MailUser>;
  /** Who owns the Maildirs (the harness runs Dovecot's mail processes as `nobody`). */
  mailOwner: { uid: number; gid: number };
}

export async function startMailServers(localParts: string[]): Promise<MailServers> {
  const servers = await start({ users: localParts });
  const users = Object.fromEntries(servers.users.map((u) => [u.address.slice(0, u.address.indexOf('@')), u]));
  const nobody = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === 'nobody');
  return Object.assign(Object.create(servers) as Servers, servers, {
    users,
    mailOwner: { uid: Number(nobody?.[2] ?? 65534), gid: Number(nobody?.[3] ?? 65534) },
    maildir: (localPart: string) => servers.maildir(users[localPart]?.address ?? localPart),
  }) as MailServers;
}
