/**
 * `mailgate db copy --from FILE --to URL` through the built CLI: a SQLite database made by real use (an agent's
 * MCP server, a person's CLI decisions) goes into a private PostgreSQL database, where the audit chain verifies,
 * the counts match, a Store lists the same pending mail with the same attachment bytes, and the next audit event
 * continues the chain. Refusals write nothing, and no output ever holds the password.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlStore } from '../../src/domain/sql-store.js';
import { SqliteStore } from '../../src/domain/sqlite-store.js';
import { eventHash } from '../../src/store/audit.js';
import { PgDriver } from '../../src/store/sql/pg-driver.js';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';
import { dbCli, expectNoPassword, json } from './db-cli.js';
import { assertBuilt, closeAll, ok, ROOT, startServer } from './harness.js';

const { tmp, home, outputs, mg } = dbCli('mailgate-e2e-dbcopy-', 60_000);
const source = tmp.file('source.db');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const sha = (file: string) => (existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : null);

/** Mail an agent and a person would make: held, approved and sent, rejected, autonomous, captured, read. */
async function useSource(): Promise<void> {
  const cli = async (args: string[]) => expect((await mg([...args, '--db', source])).code).toBe(0);
  await cli(['token', 'create', '--role', 'agent', '--name', 'bot', '--all-mailboxes']);
  await cli(['webhook', 'add', 'http://127.0.0.1:9/hook', '--allow-private-network']);
  await cli(['suppress', 'add', 'blocked@example.com', '--reason', 'asked us to stop']);
  const agent = await startServer({ role: 'agent', db: source, home });
  const send = async (mailbox: string, subject: string, files: string[] = [], to = 'you@mailgate.test') =>
    ok<{ status: string; message_id: string }>(
      await agent.call('send_email', {
        mailbox,
        to: [to],
        subject,
        text: `body of ${subject}`,
        attachments: files.map((f, i) => ({ filename: `${f}.txt`, content_base64: b64(`${f} bytes ${i}\u0000\u00ff`), content_type: 'text/plain' })),
      }),
    );
  const held = [await send('agent@mailgate.test', 'Held one', ['a', 'b']), await send('agent@mailgate.test', 'Held two', ['c'])];
  const approve = await send('agent@mailgate.test', 'To approve', ['d']);
  const reject = await send('agent@mailgate.test', 'To reject');
  expect([...held, approve, reject].map((m) => m.status)).toEqual(['pending', 'pending', 'pending', 'pending']);
  expect((await send('you@mailgate.test', 'Autonomous', ['e'], 'agent@mailgate.test')).status).toBe('sent');
  expect((await send('you@mailgate.test', 'Outside', [], 'someone@external.example')).status).toBe('sent');
  const emails = ok<{ emails: { email_id: string }[] }>(await agent.call('check_inbox', { mailbox: 'agent@mailgate.test' })).emails;
  ok(await agent.call('read_email', { email_id: emails[0]!.email_id }));
  await closeAll();
  await cli(['approve', approve.message_id, '--note', 'fine']);
  await cli(['reject', reject.message_id, '--reason', 'not today']);
}

beforeAll(() => assertBuilt());
afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

describe.skipIf(!requirePostgresOrSkip())('mailgate db copy', { timeout: 120_000 }, () => {
  let cluster: Postgres;
  beforeAll(async () => {
    cluster = await startPostgres();
    await useSource();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  const sqlOn = async <T>(url: string, sql: string): Promise<T[]> => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows as T[];
    } finally {
      await c.end();
    }
  };
  const hasMeta = async (url: string) => (await sqlOn<{ p: boolean }>(url, "SELECT to_regclass('meta') IS NOT NULL AS p"))[0]!.p;

  it('copies every table in one go; on PostgreSQL the chain verifies, counts match and a Store sees the same mail', async () => {
    const url = await cluster.freshDatabase();
    const before = json<Status>(await mg(['db', 'status', '--verify', '--db', source, '--json']));
    expect(before.counts.messages).toEqual({ pending: 2, rejected: 1, sent: 3 });
    const files = [source, `${source}-wal`].map(sha);

    const r = json<Report>(await mg(['db', 'copy', '--from', source, '--to', url, '--json']));
    expect(files).toEqual([source, `${source}-wal`].map(sha)); // read, never written
    expect(r.source_migrated).toBeNull();
    expect(r.to).toBe(url.replace(`:${encodeURIComponent(cluster.password)}@`, ':***@'));
    for (const t of ['mailboxes', 'messages', 'message_recipients', 'message_attachments', 'emails', 'captured_mail', 'audit_events', 'tokens']) {
      expect(r.tables[t], t).toBeGreaterThan(0);
    }
    for (const t of ['suppressions', 'webhook_endpoints', 'webhook_events', 'webhook_deliveries']) expect(r.tables[t], t).toBeGreaterThan(0);
    expect(r.tables.message_attachments).toBe(5);
    expect(r.tables.audit_events).toBe(before.counts.audit_events);
    expect(r.audit).toEqual(r.source_audit);
    expect(r.audit).toMatchObject({ ok: true, events: before.counts.audit_events, head: before.audit.head });

    const after = json<Status>(await mg(['db', 'status', '--verify', '--db', url, '--json']));
    expect(after).toMatchObject({ backend: 'postgres', schema_version: 5, state: 'up_to_date', counts: before.counts, audit: before.audit });

    // The Store on each side: the same pending page, the same attachment bytes, insertion order kept.
    const lite = new SqliteStore(source, { readonly: true });
    const copy = new SqlStore(await PgDriver.open(url));
    try {
      const query = { limit: 50, now: Date.now() };
      const [a, b] = [await lite.listPending(query), await copy.listPending(query)];
      expect(b.messages.map((m) => m.subject)).toEqual(['Held one', 'Held two']);
      expect(b).toEqual(a);
      for (const m of a.messages) expect(await copy.loadAttachments(m.message_id)).toEqual(await lite.loadAttachments(m.message_id));
      expect((await copy.loadAttachments(a.messages[0]!.message_id))[1]!.content).toEqual(Buffer.from('b bytes 1\u0000\u00ff'));
      expect(await copy.listTokens()).toEqual(await lite.listTokens());
    } finally {
      await Promise.all([lite.close(), copy.close()]);
    }
    const rowids = new Database(source, { readonly: true });
    for (const [table, key] of [
      ['messages', 'message_id'],
      ['emails', 'email_id'],
    ] as const) {
      const want = rowids.prepare(`SELECT ${key} FROM ${table} ORDER BY rowid`).pluck().all();
      expect((await sqlOn<Record<string, string>>(url, `SELECT ${key} FROM ${table} ORDER BY row_seq`)).map((x) => x[key])).toEqual(want);
    }
    rowids.close();

    // The next event continues the chain after the copied seq numbers.
    expect((await mg(['mailbox', 'create', 'later@mailgate.test', '--db', url])).code).toBe(0);
    const next = json<Status>(await mg(['db', 'status', '--verify', '--db', url, '--json']));
    expect(next.audit).toMatchObject({ ok: true, events: before.counts.audit_events + 1 });
    expect(next.audit.head!.seq).toBe(before.audit.head!.seq + 1);
  });

  it('refuses a target that is not empty, or holds tables of its own, and writes nothing', async () => {
    const url = await cluster.freshDatabase();
    json(await mg(['db', 'copy', '--from', source, '--json'], { MAILGATE_DATABASE_URL: url }));
    const counted = await sqlOn(url, 'SELECT (SELECT COUNT(*) FROM audit_events) AS a, (SELECT COUNT(*) FROM messages) AS m');
    const again = await mg(['db', 'copy', '--from', source, '--to', url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(
      /^mailgate: INVALID_INPUT: --to: postgres:\/\/mailgate:\*\*\*@\S+ is not empty \((meta: \d+, )?mailboxes: 2, .*audit_events: \d+/,
    );
    expect(again.stderr).toContain('db copy fills only an empty database: give a new one (createdb NAME)');
    expect(await sqlOn(url, 'SELECT (SELECT COUNT(*) FROM audit_events) AS a, (SELECT COUNT(*) FROM messages) AS m')).toEqual(counted);

    const other = await cluster.freshDatabase();
    await sqlOn(other, 'CREATE TABLE invoices (id int)');
    const foreign = await mg(['db', 'copy', '--from', source, '--to', other]);
    expect(foreign.code).toBe(2);
    expect(foreign.stderr).toContain('holds tables mailgate did not make (invoices)');
    expect(await hasMeta(other)).toBe(false);
  });

  it('refuses a --to that is not PostgreSQL and a --from that is not a mailgate SQLite file, before touching either', async () => {
    const url = await cluster.freshDatabase();
    const text = tmp.file('notes.txt');
    writeFileSync(text, 'not a database at all');
    const foreignDb = tmp.file('other-app.db');
    new Database(foreignDb).exec('CREATE TABLE t (x)').close();
    const cases: [string[], RegExp][] = [
      [['--from', source, '--to', tmp.file('target.db')], /--to: give a postgres:\/\/ or postgresql:\/\/ URL/],
      [['--from', source, '--to', 'mysql://u:pw@h/db'], /--to: a mysql: URL is not supported/],
      [['--from', url, '--to', url], /--from: give the SQLite database file to copy from, not a URL/],
      [['--from', tmp.file('missing.db'), '--to', url], /--from: there is no file \S+missing\.db/],
      [['--from', text, '--to', url], /--from: \S+notes\.txt is not a SQLite database/],
      [['--from', foreignDb, '--to', url], /--from: \S+other-app\.db is a SQLite database, but not one mailgate made/],
      [['--to', url], /--from: give the SQLite database file/],
      [['--from', source], /--to: give the PostgreSQL database to copy into/],
      [['--from', source, '--to', url, '--db', source], /'mailgate db copy' reads --from FILE and writes --to URL/],
    ];
    for (const [args, message] of cases) {
      const r = await mg(['db', 'copy', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
    const newer = tmp.file('newer.db');
    new Database(newer).exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('schema_version', '99')").close();
    const tooNew = await mg(['db', 'copy', '--from', newer, '--to', url]);
    expect(tooNew.code).toBe(3);
    expect(tooNew.stderr).toMatch(/STORE_TOO_NEW: \S+newer\.db is at schema version 99, newer than this mailgate understands/);
    expect(existsSync(tmp.file('target.db'))).toBe(false);
    expect(existsSync(tmp.file('missing.db'))).toBe(false);
    expect(await hasMeta(url)).toBe(false);
  });

  it('a file at an older schema is migrated first, then copied column by name (its added columns sit last)', async () => {
    const old = tmp.file('v2.db');
    const v2 = new Database(old);
    v2.exec(readFileSync(join(ROOT, 'test/store/fixtures/schema-v2.sql'), 'utf8'));
    v2.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '2')").run();
    v2.prepare(
      "INSERT INTO mailboxes (address, oversight_mode, mode_source, pending_ttl_seconds, transport, created_at, updated_at) VALUES ('old@mailgate.test', 'gated_send', 'config', 3600, 'sandbox', 1, 2)",
    ).run();
    let prev = '0'.repeat(64);
    for (const [i, action] of ['mailbox.created', 'mailbox.updated'].entries()) {
      const e = {
        event_id: `evt_old${i}`,
        at: 10 + i,
        actor: 'operator:old',
        action,
        mailbox: 'old@mailgate.test',
        message_id: null,
        email_id: null,
        detail: { n: i },
      };
      const hash = eventHash(prev, e as Parameters<typeof eventHash>[1]);
      v2.prepare('INSERT INTO audit_events (event_id, at, actor, action, mailbox, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        e.event_id,
        e.at,
        e.actor,
        e.action,
        e.mailbox,
        JSON.stringify(e.detail),
        prev,
        hash,
      );
      prev = hash;
    }
    v2.close();
    const url = await cluster.freshDatabase();
    const r = json<Report>(await mg(['db', 'copy', '--from', old, '--to', url, '--json']));
    expect(r.source_migrated).toEqual({ from: 2, to: 8 });
    expect(r.tables).toMatchObject({ mailboxes: 1, audit_events: 2, messages: 0 });
    expect(r.audit).toMatchObject({ ok: true, events: 2, head: { seq: 2, hash: prev } });
    const [row] = await sqlOn<Record<string, unknown>>(url, "SELECT policy, created_at, updated_at FROM mailboxes WHERE address = 'old@mailgate.test'");
    expect(row).toEqual({ policy: '{}', created_at: '1', updated_at: '2' });
  });

  it('the text report names the rows per table and the verified chain', async () => {
    const url = await cluster.freshDatabase();
    const r = await mg(['db', 'copy', '--from', source, '--to', url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^copied \S+source\.db to postgres:\/\/mailgate:\*\*\*@127\.0\.0\.1:\d+\/\w+ in one transaction:\ntable +rows\n/);
    expect(r.stdout).toMatch(/\nmessage_attachments +5\n/);
    expect(r.stdout).toMatch(/\naudit chain of the copy: ok, \d+ events; head seq \d+ hash [0-9a-f]{64}\n$/);
  });

  it('no output of any run held the password', () => {
    expectNoPassword(outputs, cluster.password, 20);
  });
});

interface Verify {
  ok: boolean;
  events: number;
  head: { seq: number; hash: string } | null;
}
interface Status {
  counts: { mailboxes: number; messages: Record<string, number>; audit_events: number };
  audit: Verify;
}
interface Report {
  to: string;
  source_migrated: unknown;
  tables: Record<string, number>;
  source_audit: Verify;
  audit: Verify;
}
