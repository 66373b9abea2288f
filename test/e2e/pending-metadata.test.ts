/**
 * `mailgate pending --status S --metadata key=value` and `mailgate audit export` through the built CLI: the
 * filters as a person types them (plain text, JSON numbers, a quoted JSON string), the table and --json both
 * showing metadata, and refusals that name the flag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { rejectMessage } from '../../src/services/review.js';
import { sendEmail } from '../../src/services/send.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli } from './harness.js';

const agent = { id: 'mcp:agent/metadata-test', roles: ['agent'] as const, mailboxes: 'all' as const };
const human = { id: 'cli:reviewer-test', roles: ['reviewer', 'operator'] as const, mailboxes: 'all' as const };
const GATED = 'agent@mailgate.test';

describe('mailgate pending filters', () => {
  const tmp = tempDir();
  const db = tmp.file('pending.db');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    const app = await createApp(loadConfig({ db }, {}));
    try {
      const send = async (subject: string, metadata?: Record<string, unknown>) =>
        (await sendEmail(app, agent, { mailbox: GATED, to: ['you@mailgate.test'], subject, text: subject, ...(metadata ? { metadata } : {}) })).message_id;
      ids.t7 = await send('ticket T-7', { ticket: 'T-7', priority: 2 });
      ids.num = await send('ticket 7 (number)', { ticket: 7 });
      ids.str = await send('ticket "7" (string)', { ticket: '7' });
      ids.none = await send('no metadata');
      ids.rejected = await send('rejected', { ticket: 'T-7', priority: 1 });
      await rejectMessage(app, human, ids.rejected, 'not this one');
    } finally {
      await app.close();
    }
  });
  afterAll(() => tmp.cleanup());

  const pending = async (...args: string[]) => {
    const r = await runCli(['pending', '--db', db, '--json', ...args], { home: tmp.path });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { messages: Record<string, any>[]; next_cursor: string | null };
  };
  const idsOf = (p: { messages: Record<string, any>[] }) => p.messages.map((m) => m.message_id).sort();

  it('filters held mail by metadata: text as typed, JSON numbers, a quoted JSON string', async () => {
    const t7 = await pending('--metadata', 'ticket=T-7');
    expect(idsOf(t7)).toEqual([ids.t7]);
    expect(t7.messages[0]).toMatchObject({ status: 'pending', metadata: { ticket: 'T-7', priority: 2 } });
    expect(idsOf(await pending('--metadata', 'ticket=7'))).toEqual([ids.num]);
    expect(idsOf(await pending('--metadata', 'ticket="7"'))).toEqual([ids.str]);
    expect(idsOf(await pending('--metadata', 'ticket=T-7', '--metadata', 'priority=3'))).toEqual([]);
    expect((await pending()).messages.find((m) => m.message_id === ids.none)!.metadata).toBeNull();
  });

  it('lists another status with --status, and prints metadata in the table', async () => {
    expect(idsOf(await pending('--status', 'rejected'))).toEqual([ids.rejected]);
    expect(idsOf(await pending('--status', 'any', '--metadata', 'ticket=T-7'))).toEqual([ids.t7, ids.rejected].sort());
    const table = await runCli(['pending', '--db', db, '--status', 'rejected'], { home: tmp.path });
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/ticket=T-7 priority=1/);
  });

  it('refuses a bad filter, naming the flag', async () => {
    const bad = await runCli(['pending', '--db', db, '--metadata', 'no-equals-sign'], { home: tmp.path });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--metadata/);
    const key = await runCli(['pending', '--db', db, '--metadata', 'bad key=1'], { home: tmp.path });
    expect(key.code).not.toBe(0);
    expect(key.stderr).toMatch(/metadata.*bad key/);
    const status = await runCli(['pending', '--db', db, '--status', 'nope'], { home: tmp.path });
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/status.*one of pending/);
  });

  it('audit export records carry the metadata', async () => {
    const r = await runCli(['audit', 'export', '--db', db], { home: tmp.path });
    expect(r.code, r.stderr).toBe(0);
    const records = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>)
      .filter((x) => x.type === 'message');
    const by = Object.fromEntries(records.map((x) => [x.message_id, x]));
    expect(by[ids.rejected!]!.metadata).toEqual({ ticket: 'T-7', priority: 1 });
    expect(by[ids.none!]!.metadata).toBeNull();
  });
});
