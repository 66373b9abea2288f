/**
 * PgDriver on a real PostgreSQL: parameters and types, transactions (afterCommit, rollback, locks, retries) and
 * jsonList. Two PgDrivers on one database are two mailgate instances: each has its own pool.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { PgDriver } from '../../src/store/sql/pg-driver.js';
import type { SqlTx } from '../../src/store/sql/types.js';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));

describe.skipIf(!requirePostgresOrSkip())('PgDriver', () => {
  let cluster: Postgres;
  let url: string;
  const drivers: PgDriver[] = [];
  const driver = (opts = {}) => {
    const d = new PgDriver(url, opts);
    drivers.push(d);
    return d;
  };

  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  beforeEach(async () => {
    url = await cluster.freshDatabase();
    await driver().tx((q) =>
      q.run(`CREATE TABLE t (id BIGINT PRIMARY KEY, n BIGINT, s TEXT, b BYTEA);
             CREATE TABLE counter (id INT PRIMARY KEY, n BIGINT NOT NULL); INSERT INTO counter VALUES (1, 0), (2, 0);`),
    );
  });
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => d.close()));
  });

  describe('statements', () => {
    it('runs positional and named parameters, leaving quoted text and casts alone', async () => {
      const d = driver();
      await d.tx(async (q) => {
        expect(await q.run('INSERT INTO t (id, n, s) VALUES (?, ?, ?), (?, ?, ?)', [1, 10, "it's ? @x", 2, 20, null])).toEqual({ changes: 2 });
        expect(await q.run("UPDATE t SET n = n + @by WHERE id = @id OR (id = @id AND s = '@id')", { id: 1, by: 5 })).toEqual({ changes: 1 });
      });
      const rows = await d.read((q) =>
        q.all<{ id: number; n: number; s: string | null }>('SELECT id, n, s FROM t WHERE s = ? OR s IS NULL ORDER BY id', ["it's ? @x"]),
      );
      expect(rows).toEqual([
        { id: 1, n: 15, s: "it's ? @x" },
        { id: 2, n: 20, s: null },
      ]);
      expect(await d.read((q) => q.get('SELECT id FROM t WHERE id = ?', [99]))).toBeUndefined();
      expect(await d.read((q) => q.value<string>("SELECT 'a?'::text || @x::text -- @y?", { x: 'b' }))).toBe('a?b');
      expect(await d.read((q) => q.column<number>('SELECT id FROM t ORDER BY id DESC'))).toEqual([2, 1]);
      expect(await d.read((q) => q.value('SELECT n FROM t WHERE id = 404'))).toBeUndefined();
    });

    it("prepares a parameter's own null test, which PostgreSQL alone could not type", async () => {
      const d = driver();
      await d.tx((q) => q.run('INSERT INTO t (id, n) VALUES (1, 10), (2, 20)'));
      const since = (min: number | null) => d.read((q) => q.column('SELECT id FROM t WHERE (@min IS NULL OR n >= @min) ORDER BY id', { min }));
      expect(await since(null)).toEqual([1, 2]);
      expect(await since(15)).toEqual([2]);
      expect(await d.read((q) => q.column('SELECT id FROM t WHERE ? IS NOT NULL AND n < ? ORDER BY id', [15, 15]))).toEqual([1]);
    });

    it('returns int8 and numeric as numbers, BYTEA as a Buffer, NULL as null, without changing pg.types', async () => {
      const d = driver();
      const bytes = Buffer.from([0, 1, 2, 250, 255]);
      await d.tx((q) => q.run('INSERT INTO t (id, n, s, b) VALUES (?, ?, ?, ?)', [1, 2 ** 40 + 1, null, bytes]));
      const row = await d.read((q) => q.get<{ id: unknown; n: unknown; s: unknown; b: unknown }>('SELECT * FROM t'));
      expect(row).toEqual({ id: 1, n: 2 ** 40 + 1, s: null, b: bytes });
      expect(Buffer.isBuffer(row!.b)).toBe(true);
      expect(await d.read((q) => q.value('SELECT COUNT(*) FROM t'))).toBe(1);
      expect(await d.read((q) => q.value('SELECT SUM(n) FROM t'))).toBe(2 ** 40 + 1); // numeric
      expect(await d.read((q) => q.value('SELECT 1.5::numeric'))).toBe(1.5);
      expect(pg.types.getTypeParser(20, 'text')('5')).toBe('5'); // the process-wide parsers are untouched
    });
  });

  describe('transactions', () => {
    it('runs afterCommit callbacks after the commit is visible to another instance, never after a rollback', async () => {
      const [a, b] = [driver(), driver()];
      let seen: Promise<unknown> | undefined;
      await a.tx(async (q) => {
        await q.run('INSERT INTO t (id) VALUES (1)');
        q.afterCommit(() => {
          seen = b.read((r) => r.value('SELECT COUNT(*) FROM t WHERE id = 1'));
        });
        expect(seen).toBeUndefined();
      });
      await tick();
      expect(await seen).toBe(1);

      const never = vi.fn();
      await expect(
        a.tx(async (q) => {
          q.afterCommit(never);
          await q.run('INSERT INTO t (id) VALUES (2)');
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      const simulated = await a.tx(
        async (q) => {
          q.afterCommit(never);
          await q.run('INSERT INTO t (id) VALUES (3)');
          return q.value('SELECT COUNT(*) FROM t');
        },
        { rollback: true },
      );
      await tick();
      expect(simulated).toBe(2); // the simulation saw its own write...
      expect(never).not.toHaveBeenCalled();
      expect(await a.read((q) => q.column('SELECT id FROM t ORDER BY id'))).toEqual([1]); // ...which is gone
    });

    it('releases the connection after failures: a pool of one still serves', async () => {
      const d = driver({ poolSize: 1 });
      for (let i = 0; i < 3; i++) await expect(d.tx((q) => q.run('INSERT INTO nope VALUES (1)'))).rejects.toMatchObject({ code: '42P01' });
      await expect(d.read((q) => q.run('SELECT * FROM nope'))).rejects.toMatchObject({ code: '42P01' });
      expect(await d.tx((q) => q.value('SELECT 1'))).toBe(1);
    });

    const bumpCounter = (d: PgDriver, lock: 'opts' | 'mid' | 'none') =>
      d.tx(
        async (q) => {
          if (lock === 'mid') await q.lock('counter:1');
          const n = await q.value<number>('SELECT n FROM counter WHERE id = 1');
          await sleep(15); // widen the read-modify-write window
          await q.run('UPDATE counter SET n = ? WHERE id = 1', [n! + 1]);
        },
        lock === 'opts' ? { locks: ['zzz', 'counter:1', 'counter:1'] } : {},
      );

    it.each(['opts', 'mid'] as const)('advisory locks (%s) serialise read-modify-write across two instances', async (lock) => {
      const [a, b] = [driver(), driver()];
      await Promise.all(Array.from({ length: 8 }, (_, i) => bumpCounter(i % 2 ? a : b, lock)));
      expect(await a.read((q) => q.value('SELECT n FROM counter WHERE id = 1'))).toBe(8);
    });

    it('without the lock the same transactions lose updates (the test above can fail)', async () => {
      const [a, b] = [driver(), driver()];
      await Promise.all(Array.from({ length: 8 }, (_, i) => bumpCounter(i % 2 ? a : b, 'none')));
      expect(await a.read((q) => q.value('SELECT n FROM counter WHERE id = 1'))).toBeLessThan(8);
    });

    it('takes a key once per transaction, and refuses lock() outside one', async () => {
      const d = driver();
      const held = await d.tx(async (q) => {
        await q.lock('k');
        await q.lock('k');
        return q.value("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()");
      });
      expect(held).toBe(1);
      await expect(d.read((q) => q.lock('k'))).rejects.toThrow(/needs a transaction/);
    });

    it('reruns the whole transaction after a deadlock; the victim retries and both commit', async () => {
      const [a, b] = [driver(), driver()];
      let arrived = 0;
      let release!: () => void;
      const bothHoldOne = new Promise<void>((r) => (release = r));
      let calls = 0;
      const transfer = (d: PgDriver, first: number, second: number) =>
        d.tx(async (q) => {
          calls++;
          await q.run('UPDATE counter SET n = n + 1 WHERE id = ?', [first]);
          if (++arrived === 2) release();
          await bothHoldOne; // each holds one row and then wants the other's: a deadlock, once
          await q.run('UPDATE counter SET n = n + 1 WHERE id = ?', [second]);
        });
      await Promise.all([transfer(a, 1, 2), transfer(b, 2, 1)]);
      expect(calls).toBe(3);
      expect(await a.read((q) => q.column('SELECT n FROM counter ORDER BY id'))).toEqual([2, 2]);
    });

    const conflict = (q: SqlTx) => q.run("DO $$ BEGIN RAISE EXCEPTION 'provoked' USING ERRCODE = 'serialization_failure'; END $$");

    it('reruns after a serialisation failure; only the committed attempt writes and calls back', async () => {
      const d = driver();
      const after = vi.fn();
      let calls = 0;
      await d.tx(async (q) => {
        q.afterCommit(after);
        await q.run('INSERT INTO t (id, n) VALUES (1, ?)', [++calls]);
        if (calls < 3) await conflict(q);
      });
      await tick();
      expect(after).toHaveBeenCalledTimes(1);
      expect(await d.read((q) => q.all('SELECT id, n FROM t'))).toEqual([{ id: 1, n: 3 }]);
    });

    it('gives up after a few attempts with STORE_BUSY', async () => {
      const d = driver();
      let calls = 0;
      const err = await d.tx(async (q) => (calls++, conflict(q))).catch((e) => e);
      expect(err).toMatchObject({ code: 'STORE_BUSY', retryable: true });
      expect(err.message).toMatch(/5 time\(s\)/);
      expect(calls).toBe(5);
    });

    it('skipLocked lets a second instance claim the row the first has locked past it', async () => {
      const [a, b] = [driver(), driver()];
      const claim = (q: SqlTx) => q.value<number>(`SELECT id FROM counter ORDER BY id LIMIT 1${q.dialect.skipLocked}`);
      let release!: () => void;
      const hold = new Promise<void>((r) => (release = r));
      let first: number | undefined;
      const holding = a.tx(async (q) => {
        first = await claim(q);
        await hold;
      });
      while (first === undefined) await sleep(5);
      const second = await b.tx(claim);
      release();
      await holding;
      expect([first, second]).toEqual([1, 2]);
    });
  });

  describe('jsonList', () => {
    beforeEach(async () => {
      await driver().tx((q) => q.run("INSERT INTO t (id, s) VALUES (1, 'a'), (2, 'b'), (3, 'c')"));
    });
    const pick = (list: string | null, type: 'text' | 'int', column: 'id' | 's') =>
      driver().read((q) => q.column(`SELECT id FROM t WHERE (@list IS NULL OR ${column} IN ${q.dialect.jsonList('@list', type)}) ORDER BY id`, { list }));
    const none = (list: string | null, type: 'text' | 'int', column: 'id' | 's') =>
      driver().read((q) => q.column(`SELECT id FROM t WHERE ${column} IN ${q.dialect.jsonList('@list', type)} ORDER BY id`, { list }));

    it('selects by a JSON list of text or of integers', async () => {
      expect(await pick('["a","c","zz"]', 'text', 's')).toEqual([1, 3]);
      expect(await pick('[3, 2]', 'int', 'id')).toEqual([2, 3]);
    });

    it('an empty list and NULL are empty lists (NULL stays usable in `@list IS NULL OR`)', async () => {
      expect(await none('[]', 'text', 's')).toEqual([]);
      expect(await none(null, 'text', 's')).toEqual([]);
      expect(await none(null, 'int', 'id')).toEqual([]);
      expect(await pick(null, 'text', 's')).toEqual([1, 2, 3]);
    });
  });
});
