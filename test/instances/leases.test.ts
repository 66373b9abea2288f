/**
 * Named leases (Store.acquireLease / dropLease): a compare-and-set that gives a lease to whoever asks when it is
 * free, expired or already theirs, and to nobody else; and, with instances racing for an expired lease, to one.
 */
import { describe, expect, it } from 'vitest';
import { openInstance, useBackends } from './helpers.js';

const NAME = 'imap-watch:alice@mailgate.test';
const T0 = 1_700_000_000_000;
const { backends } = useBackends('mailgate-leases-');

describe.each(backends)('leases on $name', (backend) => {
  it('is taken when free, renewed by its holder, refused to others until it expires, then taken over', async () => {
    const database = await backend.freshDatabase();
    const a = await openInstance(database);
    const b = await openInstance(database);
    expect(await a.leaseHolder(NAME, T0)).toBeUndefined();
    expect(await a.acquireLease(NAME, 'a', 1000, T0)).toBe(true);
    expect(await b.acquireLease(NAME, 'b', 1000, T0 + 500)).toBe(false);
    expect(await a.acquireLease(NAME, 'a', 1000, T0 + 900)).toBe(true); // renewed: now until T0 + 1900
    expect(await b.acquireLease(NAME, 'b', 1000, T0 + 1500)).toBe(false);
    expect(await b.leaseHolder(NAME, T0 + 1500)).toBe('a');
    // The holder stopped renewing (it died): at its expiry another takes it, and the old holder cannot renew.
    expect(await b.leaseHolder(NAME, T0 + 1900)).toBeUndefined();
    expect(await b.acquireLease(NAME, 'b', 1000, T0 + 1900)).toBe(true);
    expect(await a.acquireLease(NAME, 'a', 1000, T0 + 2000)).toBe(false);
    expect(await a.leaseHolder(NAME, T0 + 2000)).toBe('b');
    // Another name is another lease.
    expect(await a.acquireLease('imap-watch:bob@mailgate.test', 'a', 1000, T0 + 2000)).toBe(true);
    await a.close();
    await b.close();
  });

  it('is given up only by its holder, and is then free at once', async () => {
    const database = await backend.freshDatabase();
    const a = await openInstance(database);
    expect(await a.acquireLease(NAME, 'a', 60_000, T0)).toBe(true);
    expect(await a.dropLease(NAME, 'b')).toBe(false);
    expect(await a.leaseHolder(NAME, T0)).toBe('a');
    expect(await a.dropLease(NAME, 'a')).toBe(true);
    expect(await a.leaseHolder(NAME, T0)).toBeUndefined();
    expect(await a.acquireLease(NAME, 'b', 60_000, T0)).toBe(true);
    await a.close();
  });

  it('goes to exactly one of several instances taking an expired lease at once', async () => {
    const database = await backend.freshDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openInstance(database)));
    expect(await stores[0]!.acquireLease(NAME, 'dead', 1000, T0)).toBe(true);
    for (let round = 1; round <= 5; round++) {
      const now = T0 + round * 10_000; // every earlier lease has expired
      const owners = stores.flatMap((_, i) => [`s${i}-x`, `s${i}-y`]);
      const won = await Promise.all(owners.map((o, i) => stores[i % stores.length]!.acquireLease(NAME, `${o}-${round}`, 1000, now)));
      expect(won.filter(Boolean)).toHaveLength(1);
      expect(await stores[0]!.leaseHolder(NAME, now)).toBe(`${owners[won.indexOf(true)]}-${round}`);
    }
    await Promise.all(stores.map((s) => s.close()));
  });
});
