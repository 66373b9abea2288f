/**
 * Tampering with the audit chain on PostgreSQL, beneath the Store (as test/store/tamper.test.ts does on SQLite):
 * the table owner turns the append-only triggers off and cuts or rewrites the newest events. A sequence leaves
 * gaps, so it is the audit_head record that shows a cut tail; without it these removals would verify.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqlStore } from '../../src/domain/sql-store.js';
import { PgDriver } from '../../src/store/sql/pg-driver.js';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';
import { ALICE, addMailbox, content, submit, T0 } from './fixtures.js';

describe.skipIf(!requirePostgresOrSkip())('a tampered audit chain on PostgreSQL', () => {
  let cluster: Postgres;
  let store: SqlStore | undefined;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    await store?.close();
  });

  /** A store with a few audited events, and raw SQL as the table owner with the append-only triggers off. */
  async function chained(): Promise<{ s: SqlStore; url: string; sql: (text: string) => Promise<void>; last: () => Promise<number> }> {
    const url = await cluster.freshDatabase();
    const driver = await PgDriver.open(url);
    const s = (store = new SqlStore(driver));
    await addMailbox(s, ALICE, 'gated_send');
    for (let i = 0; i < 3; i++) await submit(s, ALICE, content({ subject: `draft ${i}` }), { now: T0 + i });
    const sql = async (text: string) => {
      await driver.tx(async (q) => {
        await q.run('ALTER TABLE audit_events DISABLE TRIGGER USER');
        await q.run(text);
        await q.run('ALTER TABLE audit_events ENABLE TRIGGER USER');
      });
    };
    const last = async () => Number(await driver.read((q) => q.value<number>('SELECT max(seq) FROM audit_events')));
    return { s, url, sql, last };
  }

  it('verifies untouched, with the head record naming the newest event', async () => {
    const { s, last } = await chained();
    const v = await s.verifyAudit();
    expect(v).toMatchObject({ ok: true, head: { seq: await last() } });
  });

  it('names the newest events removed', async () => {
    const { s, sql, last } = await chained();
    const newest = await last();
    await sql(`DELETE FROM audit_events WHERE seq >= ${newest - 1}`);
    expect(await s.verifyAudit()).toMatchObject({
      ok: false,
      first_bad_seq: newest - 1,
      problem: `events after seq ${newest - 2} up to ${newest} were removed`,
    });
  });

  it('names a head record removed', async () => {
    const { s, sql, last } = await chained();
    await sql('DELETE FROM audit_head');
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: await last(), problem: expect.stringMatching(/audit_head\) is missing/) });
  });

  it('names a newest event that is not the one recorded as the head', async () => {
    const { s, sql, last } = await chained();
    await sql(`UPDATE audit_head SET hash = '${'0'.repeat(64)}'`);
    expect(await s.verifyAudit()).toMatchObject({ ok: false, first_bad_seq: (await last()) + 1, problem: expect.stringMatching(/not the ones recorded/) });
  });

  it('keeps verifying as appends continue from two instances at once', async () => {
    const { s, url } = await chained();
    const other = new SqlStore(await PgDriver.open(url));
    try {
      await Promise.all(
        [s, other].flatMap((x, i) => Array.from({ length: 10 }, (_, k) => submit(x, ALICE, content({ subject: `race ${i}.${k}` }), { now: T0 + 100 + k }))),
      );
      expect(await s.verifyAudit()).toMatchObject({ ok: true });
    } finally {
      await other.close();
    }
  });
});
