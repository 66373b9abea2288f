/**
 * Lease owners, shared by the delivery worker (src/services/deliver.ts) and the webhook dispatcher
 * (src/webhooks/dispatcher.ts): both claim rows with a lease named after the process holding it, so a
 * process on this host can tell that a lease's owner has died and retry its rows at once rather than
 * when the lease runs out.
 */
import { hostname } from 'node:os';
import { randomToken } from './ids.js';

/** `host:pid:random`: the random part tells apart two workers of one process, or a reused pid. */
export function newLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomToken(6)}`;
}

/** True when the lease owner ran on this host and its process is gone. Owners elsewhere are never judged. */
export function ownerIsDead(owner: string): boolean {
  const [host, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
