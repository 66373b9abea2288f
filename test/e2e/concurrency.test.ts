/**
 * Many processes on one database file: concurrent sends are each delivered exactly once, and two reviewers
 * racing to approve the same held messages produce one approval and one delivery per message.
 * Counts are read straight from the SQLite file, not through the servers under test.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, inbox, ok, runCli, type ServerHandle, startServer, textOf, waitFor, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-concurrency-');
const db = tmp.file('shared.db');
const home = tmp.path;
const config = writeConfig(tmp.file('mailgate.json'), {
  mailboxes: [
    { address: 'bot@mailgate.test', oversight_mode: 'autonomous' },
    { address: 'held@mailgate.test', oversight_mode: 'gated_send' },
    { address: 'inbox@mailgate.test', oversight_mode: 'autonomous' },
  ],
});
const AGENTS = 4;
const PER_AGENT = 10;
let agents: ServerHandle[] = [];

function query<T>(sql: string, ...params: unknown[]): T[] {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare(sql).all(...params) as T[];
  } finally {
    conn.close();
  }
}

/** How many copies of each outbound message landed in a mailbox folder. */
function copies(mailbox: string, folder: string, ids: string[]): Map<string, number> {
  const rows = query<{ id: string; n: number }>(
    'SELECT outbound_message_id AS id, count(*) AS n FROM emails WHERE mailbox = ? AND folder = ? GROUP BY outbound_message_id',
    mailbox,
    folder,
  );
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const r of rows) if (counts.has(r.id)) counts.set(r.id, r.n);
  return counts;
}

function auditCount(action: string, ids: string[]): Map<string, number> {
  const rows = query<{ id: string; n: number }>('SELECT message_id AS id, count(*) AS n FROM audit_events WHERE action = ? GROUP BY message_id', action);
  const counts = new Map(ids.map((id) => [id, 0]));
  for (const r of rows) if (counts.has(r.id)) counts.set(r.id, r.n);
  return counts;
}

const allOnes = (ids: string[]) => new Map(ids.map((id) => [id, 1]));

/** Delivery attempts per message: the sandbox never fails, so a second claim would show as 2. */
function attempts(ids: string[]): Map<string, number> {
  const rows = query<{ id: string; n: number }>(
    `SELECT message_id AS id, attempts AS n FROM messages WHERE message_id IN (${ids.map(() => '?').join(',')})`,
    ...ids,
  );
  return new Map(rows.map((r) => [r.id, r.n]));
}

async function allSent(ids: string[]): Promise<void> {
  await waitFor(
    () => {
      const marks = ids.map(() => '?').join(',');
      const rows = query<{ n: number }>(`SELECT count(*) AS n FROM messages WHERE status = 'sent' AND message_id IN (${marks})`, ...ids);
      return rows[0]!.n === ids.length;
    },
    15_000,
    `all ${ids.length} messages to be sent`,
  );
}

beforeAll(async () => {
  assertBuilt();
  // All four start at once on a fresh file: schema creation and the config's mailboxes must not collide.
  agents = await Promise.all(Array.from({ length: AGENTS }, (_, i) => startServer({ role: 'agent', db, config, home, clientName: `agent-${i}` })));
});

afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

describe('concurrent agents on one database', () => {
  it(`${AGENTS} agent processes x ${PER_AGENT} autonomous sends: each delivered exactly once`, async () => {
    const calls = agents.flatMap((a, i) =>
      Array.from({ length: PER_AGENT }, (_, j) =>
        a.call('send_email', { mailbox: 'bot@mailgate.test', to: 'inbox@mailgate.test', subject: `burst a${i} m${j}`, text: `from agent ${i}, message ${j}` }),
      ),
    );
    const results = await Promise.all(calls);
    const sent = results.map((r) => ok<{ message_id: string; status: string }>(r));
    // Another process's worker may claim a message first, so the sender can see it still in flight.
    for (const s of sent) expect(['sent', 'queued']).toContain(s.status);
    const ids = sent.map((s) => s.message_id);
    expect(new Set(ids).size).toBe(AGENTS * PER_AGENT);

    await allSent(ids);
    expect(copies('inbox@mailgate.test', 'INBOX', ids)).toEqual(allOnes(ids));
    expect(copies('bot@mailgate.test', 'Sent', ids)).toEqual(allOnes(ids));
    expect(auditCount('message.sent', ids)).toEqual(allOnes(ids));
    expect(attempts(ids)).toEqual(allOnes(ids));
    for (const a of agents) expect(a.stderr()).not.toContain('lease was lost');

    // And as an agent sees it: every subject exactly once.
    const subjects = (await inbox(agents[0]!, 'inbox@mailgate.test', 100)).map((e) => e.subject).filter((s) => s.startsWith('burst '));
    expect(subjects).toHaveLength(AGENTS * PER_AGENT);
    expect(new Set(subjects).size).toBe(AGENTS * PER_AGENT);
  });

  it('two reviewer processes racing on the same 10 held messages: one approval and one delivery each', async () => {
    const held = await Promise.all(
      Array.from({ length: 10 }, (_, j) =>
        agents[j % AGENTS]!.call('send_email', {
          mailbox: 'held@mailgate.test',
          to: 'inbox@mailgate.test',
          subject: `race m${j}`,
          text: `held ${j}`,
        }),
      ),
    );
    const ids = held.map((r) => {
      const s = ok<{ message_id: string; status: string }>(r);
      expect(s.status).toBe('pending');
      return s.message_id;
    });

    const [r1, r2] = await Promise.all([
      startServer({ role: 'reviewer', db, config, home, clientName: 'reviewer-1' }),
      startServer({ role: 'reviewer', db, config, home, clientName: 'reviewer-2' }),
    ]);
    const outcomes = await Promise.all(
      ids.map((message_id) => Promise.all([r1.call('queue_approve', { message_id }), r2.call('queue_approve', { message_id })])),
    );

    outcomes.forEach(([a, b], k) => {
      const wins = [a, b].filter((r) => !r.isError);
      const losses = [a, b].filter((r) => r.isError);
      expect(wins, `message ${ids[k]}: ${textOf(a)} | ${textOf(b)}`).toHaveLength(1);
      expect(losses).toHaveLength(1);
      expect(textOf(losses[0]!)).toContain('NOT_PENDING');
    });

    await allSent(ids);
    expect(auditCount('message.approved', ids)).toEqual(allOnes(ids));
    expect(auditCount('message.sent', ids)).toEqual(allOnes(ids));
    expect(copies('inbox@mailgate.test', 'INBOX', ids)).toEqual(allOnes(ids));
    expect(attempts(ids)).toEqual(allOnes(ids));
    // Each reviewer's stderr shows no failure, and the audit chain written by six processes is intact.
    for (const s of [r1, r2, ...agents]) expect(s.stderr()).not.toMatch(/"level":"error"|lease was lost/);
    await r1.close();
    await r2.close();
  });

  it('the audit hash chain written by all these processes verifies', async () => {
    const r = await runCli(['audit', 'verify', '--json', '--db', db, '--config', config], { home });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
  });
});
