/**
 * An outcome that cannot be recorded (the disk filled up after the message went out): the worker retries the
 * write briefly, then releases its lease at once instead of holding it for the lease time, and the next pass
 * recovers the message by the usual rule. The database is made "full" for real with PRAGMA max_page_count
 * (SQLite then reports SQLITE_FULL, as for a full disk).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sender, TransportRegistry } from '../../src/mail/ports.js';
import { DeliveryWorker } from '../../src/services/deliver.js';
import type { SqliteStore } from '../../src/domain/sqlite-store.js';
import { ALICE, BOB, T0, addMailbox, approveMany, auditActions, content } from './fixtures.js';
import { sqliteDb } from './sqlite-fixtures.js';

let t: ReturnType<typeof sqliteDb>;
let a: SqliteStore;
beforeEach(async () => {
  t = sqliteDb();
  a = t.open();
  await addMailbox(a, ALICE, 'gated_send');
  a.db.exec('CREATE TABLE filler (x BLOB)');
});
afterEach(async () => {
  await t.close();
});

/** Fills every page the connection may use, so the next insert fails with SQLITE_FULL. */
function fillDisk(): void {
  a.db.pragma(`max_page_count = ${a.db.pragma('page_count', { simple: true }) as number}`);
  const insert = a.db.prepare('INSERT INTO filler VALUES (randomblob(256))');
  try {
    for (;;) insert.run();
  } catch (err) {
    expect((err as { code?: string }).code).toBe('SQLITE_FULL');
  }
}
const freeDisk = () => a.db.pragma('max_page_count = 1073741823');

/** A non-idempotent sender (like SMTP) whose server accepts the message, after which the disk is full. */
function fillingSender(sent: string[]): TransportRegistry {
  const sender: Sender = {
    idempotent: false,
    async send(m, hooks) {
      await hooks.beforeMailFrom?.();
      await hooks.beforeFinalDot();
      sent.push(m.message_id);
      fillDisk();
      // A reply long enough that recording it needs new pages (a short one could fit the free bytes of a page).
      return { accepted: m.to, captured: [], detail: { response: `250 2.0.0 queued ${'x'.repeat(8000)}` } };
    },
  };
  return { canServe: () => true, forMailbox: () => ({ sender }), close: async () => {} };
}

describe('an outcome that cannot be recorded', () => {
  it('releases the lease at once; the next pass makes it outcome_unknown and never sends it again', async () => {
    const [id] = await approveMany(a, ALICE, 1, () => content({ to: [BOB], subject: 'recorded?' }), T0);
    let now = T0 + 1;
    const clock = () => now;
    const sent: string[] = [];
    const worker = new DeliveryWorker(a, fillingSender(sent), clock, { leaseMs: 300_000, recordRetryMs: [5, 5] });
    await worker.tick();
    expect(sent).toEqual([id]);
    // Not recorded, but not held for the 300 s lease either: released now, with the transmission marked.
    const row = a.db.prepare('SELECT status, lease_owner, lease_until, transmitting_at, attempts FROM messages WHERE message_id = ?').get(id!) as {
      status: string;
      lease_owner: string;
      lease_until: number;
      transmitting_at: number | null;
      attempts: number;
    };
    expect(row).toMatchObject({ status: 'sending', lease_owner: worker.owner, transmitting_at: T0 + 1, attempts: 1 });
    expect(row.lease_until).toBeLessThan(now);

    freeDisk();
    now += 1;
    await worker.tick();
    expect(sent).toEqual([id]); // never sent twice
    expect(await a.getMessage(id!)).toMatchObject({ status: 'outcome_unknown', lease_owner: null, attempts: 1 });
    expect(await auditActions(a, id!)).toEqual(['message.held', 'message.approved', 'message.outcome_unknown']);
    expect(await a.verifyAudit()).toMatchObject({ ok: true });
  });
});
