/**
 * PostgreSQL migrations: once, even when instances start together; refused when the database is newer than the
 * code; all or nothing. And what the schema does beyond declaring columns: append-only audit, full-text search,
 * insertion order, the correspondents domain index.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { migratePg, PG_SCHEMA_VERSION, pgSchemaVersion } from '../../src/store/pg/migrations.js';
import { PgDriver } from '../../src/store/sql/pg-driver.js';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';

describe.skipIf(!requirePostgresOrSkip())('PostgreSQL migrations', () => {
  let cluster: Postgres;
  const drivers: PgDriver[] = [];
  const track = (d: PgDriver) => (drivers.push(d), d);
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    await Promise.all(drivers.splice(0).map((d) => d.close()));
  });
  const version = (d: PgDriver) => d.read((q) => q.value("SELECT value FROM meta WHERE key = 'schema_version'"));
  const versionOf = async (d: PgDriver) => {
    const client = await d.pool.connect();
    try {
      return await pgSchemaVersion(client);
    } finally {
      client.release();
    }
  };

  it('a fresh database gets every migration and records the version; a second run does nothing', async () => {
    const url = await cluster.freshDatabase();
    expect(await versionOf(track(new PgDriver(url)))).toBe(0);
    const d = track(await PgDriver.open(url));
    expect(await version(d)).toBe(String(PG_SCHEMA_VERSION));
    expect(await versionOf(d)).toBe(PG_SCHEMA_VERSION);
    expect(await migratePg(d.pool)).toEqual({ from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION });
    track(await PgDriver.open(url));
    expect(await d.read((q) => q.value("SELECT COUNT(*) FROM meta WHERE key = 'schema_version'"))).toBe(1);
  });

  it('instances starting together migrate once: the others wait on the lock and find nothing to do', async () => {
    const url = await cluster.freshDatabase();
    const ds = [0, 1, 2].map(() => track(new PgDriver(url)));
    const results = await Promise.all(ds.map((d) => migratePg(d.pool)));
    expect(results.map((r) => r.from).sort()).toEqual([0, PG_SCHEMA_VERSION, PG_SCHEMA_VERSION]);
    expect(await version(ds[0]!)).toBe(String(PG_SCHEMA_VERSION));
    // And through open(), which is what `serve` does.
    const url2 = await cluster.freshDatabase();
    await Promise.all([0, 1, 2].map(async () => track(await PgDriver.open(url2))));
  });

  it('refuses a database newer than the code, and leaves it as it was', async () => {
    const url = await cluster.freshDatabase();
    const d = track(await PgDriver.open(url));
    await d.tx((q) => q.run("UPDATE meta SET value = '99' WHERE key = 'schema_version'"));
    const err = await PgDriver.open(url).catch((e) => e);
    expect(err).toMatchObject({ code: 'STORE_TOO_NEW', details: { schema_version: 99, supported: PG_SCHEMA_VERSION } });
    expect(err.message).toContain(`the database is at schema version 99, this mailgate knows ${PG_SCHEMA_VERSION}: upgrade mailgate`);
    expect(await version(d)).toBe('99');
  });

  it('a migration that fails leaves nothing behind and names its version', async () => {
    const url = await cluster.freshDatabase();
    const d = track(new PgDriver(url));
    await d.tx((q) => q.run('CREATE TABLE mailboxes (someone_elses TEXT)'));
    await expect(migratePg(d.pool)).rejects.toThrow(/PostgreSQL migration 1 failed: relation "mailboxes" already exists/);
    expect(await d.read((q) => q.value("SELECT to_regclass('meta') IS NULL AND to_regclass('messages') IS NULL"))).toBe(true);
  });
});

describe.skipIf(!requirePostgresOrSkip())('the PostgreSQL schema at work', () => {
  let cluster: Postgres;
  let d: PgDriver;
  beforeAll(async () => {
    cluster = await startPostgres();
    d = await PgDriver.open(await cluster.freshDatabase());
    await d.tx(async (q) => {
      await q.run(`INSERT INTO mailboxes (address, oversight_mode, mode_source, pending_ttl_seconds, transport, created_at, updated_at)
                   VALUES ('a@example.com', 'gated_all', 'config', 3600, 'sandbox', 1, 1)`);
      for (const [id, subject, body] of [
        ['eml_2', 'Quarterly invoice', 'Please find the invoice attached'],
        ['eml_1', 'Lunch?', 'Are you free on Friday'],
      ]) {
        await q.run(
          `INSERT INTO emails (email_id, mailbox, folder, source, from_addr, from_name, to_addrs, cc_addrs, subject, text_body, date, received_at)
           VALUES (?, 'a@example.com', 'INBOX', 'sandbox', 'bob@example.org', 'Bob Builder', '["a@example.com"]', '[]', ?, ?, 1, 1)`,
          [id, subject, body],
        );
      }
    });
  });
  afterAll(async () => {
    await d?.close();
    await cluster?.stop();
  });

  it('audit_events is append-only: UPDATE, DELETE and TRUNCATE are refused', async () => {
    await d.tx((q) =>
      q.run(`INSERT INTO audit_events (event_id, at, actor, action, detail, prev_hash, hash) VALUES ('evt_1', 1, 'op', 'mailbox.created', '{}', '', 'h')`),
    );
    for (const sql of ["UPDATE audit_events SET actor = 'x'", 'DELETE FROM audit_events', 'TRUNCATE audit_events']) {
      await expect(d.tx((q) => q.run(sql))).rejects.toThrow(/audit_events is append-only/);
    }
    expect(await d.read((q) => q.all('SELECT seq, actor FROM audit_events'))).toEqual([{ seq: 1, actor: 'op' }]);
  });

  it('search_vector finds mail by subject, body and sender name, through its GIN index', async () => {
    const search = (query: string) =>
      d.read((q) => q.column(`SELECT email_id FROM emails WHERE search_vector @@ to_tsquery('simple', @query) ORDER BY email_id`, { query }));
    expect(await search('invoice')).toEqual(['eml_2']);
    expect(await search('friday & free')).toEqual(['eml_1']);
    expect(await search('builder')).toEqual(['eml_1', 'eml_2']);
    expect(await search('nothing')).toEqual([]);
    const plan = await d.read(async (q) => {
      await q.run('SET enable_seqscan = off');
      const rows = await q.column<string>("EXPLAIN SELECT email_id FROM emails WHERE search_vector @@ to_tsquery('simple', 'invoice')");
      await q.run('RESET enable_seqscan');
      return rows.join('\n');
    });
    expect(plan).toContain('emails_search');
  });

  it('row_seq keeps insertion order (Dialect.insertionOrder), which ids do not', async () => {
    const order = await d.read((q) => q.column(`SELECT email_id FROM emails ORDER BY ${q.dialect.insertionOrder}`));
    expect(order).toEqual(['eml_2', 'eml_1']);
  });

  it("correspondents_domain serves the store's domain lookup (the expression must match the index's)", async () => {
    const plan = await d.read(async (q) => {
      await q.run('SET enable_seqscan = off');
      const rows = await q.column<string>(
        "EXPLAIN SELECT 1 FROM correspondents WHERE mailbox = 'a@example.com' AND substr(address, strpos(address, '@') + 1) = 'example.org'",
      );
      await q.run('RESET enable_seqscan');
      return rows.join('\n');
    });
    expect(plan).toContain('correspondents_domain');
  });
});
