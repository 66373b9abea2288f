/**
 * Change signals (Store.onChange) between stores on one database: what a commit tells its own store and the
 * others, that a rollback tells nobody, and (PostgreSQL) that a killed LISTEN connection comes back with a
 * `resync` for what it may have missed. Run on a SQLite file (stores of one process) and on PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { decodeSignals, encodeSignals } from '../../src/store/sql/changes.js';
import type { Store } from '../../src/store/store.js';
import { addSandboxMailbox, type Backend, listeners, nextChange, openInstance, recordChanges, settle, submitDraft, useBackends } from './helpers.js';

const MAILBOX = 'agent@mailgate.test';
const { backends, cluster, hasPostgres } = useBackends('mailgate-signals-');

describe.each(backends)('change signals on $name', (backend) => {
  async function twoInstances(): Promise<{ a: Store; b: Store; database: string; close(): Promise<void> }> {
    const database = await backend.freshDatabase();
    const a = await openInstance(database);
    const b = await openInstance(database);
    await addSandboxMailbox(a, MAILBOX);
    return { a, b, database, close: () => Promise.all([a.close(), b.close()]).then(() => undefined) };
  }

  /** Both stores hear each other: on PostgreSQL once their LISTEN connections are up. */
  async function listening(database: string, n: number) {
    if (backend.name === 'postgres') await settle(async () => (await listeners(cluster(), database)).length === n, `${n} LISTEN connections`);
  }

  it('tells its own store (local) and the other store (not local) of a commit, each signal once', async () => {
    const { a, b, database, close } = await twoInstances();
    const onA = recordChanges(a);
    const onB = recordChanges(b);
    await listening(database, 2);
    onA.seen.length = onB.seen.length = 0; // the first connection's resync

    const heardByB = nextChange(b, (c) => c.topic === 'outbound', "B hearing A's submit");
    const held = await submitDraft(a, MAILBOX, 'held on A');
    expect(held.message.status).toBe('pending');
    expect(await heardByB).toEqual({ topic: 'outbound', mailbox: MAILBOX, local: false });
    expect(onA.topics('outbound')).toEqual([{ topic: 'outbound', mailbox: MAILBOX, local: true }]);

    // A decision on B: approved mail is deliverable; A hears it as another instance's.
    const heardByA = nextChange(a, (c) => c.topic === 'deliverable', "A hearing B's approval");
    await b.decideMessage(held.message.message_id, { action: 'approve', actor: 'reviewer:test' }, Date.now());
    expect(await heardByA).toEqual({ topic: 'deliverable', mailbox: MAILBOX, local: false });
    expect(onB.topics('deliverable')).toEqual([{ topic: 'deliverable', mailbox: MAILBOX, local: true }]);
    // A's own submit reached A once, as local: its NOTIFY, which came back on A's LISTEN connection before B's
    // (notifications arrive in commit order), was skipped. The one outbound A heard from elsewhere is B's decision.
    expect(onA.topics('outbound')).toEqual([
      { topic: 'outbound', mailbox: MAILBOX, local: true },
      { topic: 'outbound', mailbox: MAILBOX, local: false },
    ]);
    await close();
  });

  it('a rolled-back transaction (a policy simulation) signals nothing', async () => {
    const { a, b, database, close } = await twoInstances();
    const onB = recordChanges(b);
    await listening(database, 1);
    onB.seen.length = 0;
    const draft = { message_id: 'msg_simulated', message_id_header: '<sim@mailgate.test>', mailbox: MAILBOX, kind: 'send' as const, actor: 'agent:test' };
    await a.simulateSubmit(
      { ...draft, content: { to: ['x@example.org'], cc: [], bcc: [], subject: 's', text: 't', html: null } },
      () => ({ outcome: 'hold', code: 'mode_requires_approval', reason: 'simulated' }),
      Date.now(),
    );
    // A real change after it: B hears that one first, so the simulation sent nothing before it.
    const next = nextChange(b, (c) => c.topic !== 'resync', 'the change after the simulation');
    await submitDraft(a, MAILBOX, 'real');
    expect(await next).toMatchObject({ topic: 'outbound', mailbox: MAILBOX });
    expect(onB.seen.filter((c) => c.topic !== 'resync')).toHaveLength(1);
    await close();
  });

  it('a lease given up is signalled to the other store, so it can take over at once', async () => {
    const { a, b, close } = await twoInstances();
    const now = Date.now();
    expect(await a.acquireLease('imap-watch:x@mailgate.test', 'owner-a', 60_000, now)).toBe(true);
    await settleListening(backend, b);
    const heard = nextChange(b, (c) => c.topic === 'lease', 'the lease signal');
    expect(await a.dropLease('imap-watch:x@mailgate.test', 'owner-a')).toBe(true);
    expect(await heard).toMatchObject({ topic: 'lease', local: false });
    expect(await b.acquireLease('imap-watch:x@mailgate.test', 'owner-b', 60_000, Date.now())).toBe(true);
    await close();
  });
});

/** B's LISTEN connection is up (its first resync came), or at once on SQLite. */
async function settleListening(backend: Backend, store: Store): Promise<void> {
  if (backend.name === 'postgres') await nextChange(store, (c) => c.topic === 'resync', 'the LISTEN connection', 10_000);
}

describe.skipIf(!hasPostgres)('the LISTEN connection on PostgreSQL', () => {
  it('killed with pg_terminate_backend: reconnects, sends a resync for what it missed, and hears later changes', async () => {
    const database = await cluster().freshDatabase();
    const a = await openInstance(database);
    const b = await openInstance(database);
    await addSandboxMailbox(a, MAILBOX);
    const onB = recordChanges(b);
    await settle(async () => (await listeners(cluster(), database)).length === 1, "B's LISTEN connection");
    const [before] = await listeners(cluster(), database);

    const resync = nextChange(b, (c) => c.topic === 'resync', 'the resync after the reconnection', 10_000);
    await cluster().admin('SELECT pg_terminate_backend($1)', [before]);
    await resync;
    const after = await listeners(cluster(), database);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);

    const heard = nextChange(b, (c) => c.topic === 'outbound', "A's submit after the reconnection");
    await submitDraft(a, MAILBOX, 'after the kill');
    expect(await heard).toEqual({ topic: 'outbound', mailbox: MAILBOX, local: false });
    expect(onB.topics('resync').length).toBeGreaterThanOrEqual(2); // the first connection's, and the reconnection's
    await a.close();
    await b.close();
  });

  it('a payload too large for NOTIFY names the topics alone, for every mailbox', () => {
    const many = Array.from({ length: 400 }, (_, i) => ({ topic: 'outbound', mailbox: `mailbox-${i}@a-rather-long-domain.example` }));
    const payload = encodeSignals('me', many);
    expect(payload.length).toBeLessThan(8000);
    expect(decodeSignals(payload)).toEqual({ from: 'me', signals: [{ topic: 'outbound', mailbox: null }] });
    expect(decodeSignals('not json')).toBeNull();
  });
});
