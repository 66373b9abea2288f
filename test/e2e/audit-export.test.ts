/**
 * `mailgate audit export`: JSON Lines an auditor can use. The first line is the chain's verification, then one
 * record per outbound message with the agent, draft time, gate decision, what the reviewer saw (both
 * versions when edited), who decided, the reason, time to decide and the delivery result.
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { approveMessage, rejectMessage } from '../../src/services/review.js';
import { sendEmail } from '../../src/services/send.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli } from './harness.js';

const agent = { id: 'mcp:agent/export-test', roles: ['agent'] as const, mailboxes: 'all' as const };
const human = { id: 'cli:auditor-test', roles: ['reviewer', 'operator'] as const, mailboxes: 'all' as const };

describe('mailgate audit export', () => {
  const tmp = tempDir();
  const db = tmp.file('export.db');
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    assertBuilt();
    const app = await createApp(loadConfig({ db }, {}));
    try {
      const send = async (subject: string) =>
        (await sendEmail(app, agent, { mailbox: 'agent@mailgate.test', to: ['you@mailgate.test'], subject, text: `body of ${subject}` })).message_id;
      ids.approved = await send('approved as is');
      ids.edited = await send('approved with edits');
      ids.rejected = await send('rejected');
      ids.held = await send('still held');
      ids.autonomous = (
        await sendEmail(app, agent, { mailbox: 'you@mailgate.test', to: ['agent@mailgate.test'], subject: 'autonomous', text: 'hi' })
      ).message_id;
      await approveMessage(app, human, ids.approved!, { note: 'fine' });
      await approveMessage(app, human, ids.edited!, { edits: { subject: 'approved with edits (fixed)' } });
      await rejectMessage(app, human, ids.rejected!, 'wrong tone');
    } finally {
      await app.close();
    }
  });
  afterAll(() => tmp.cleanup());

  const lines = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);

  it('writes the chain status first, then one record per message with what an auditor needs', async () => {
    const r = await runCli(['audit', 'export', '--db', db], { home: tmp.path });
    expect(r.code, r.stderr).toBe(0);
    const [chain, ...records] = lines(r.stdout);
    expect(chain).toMatchObject({ type: 'chain', ok: true });
    expect(records.map((x) => x.message_id).sort()).toEqual(Object.values(ids).sort());
    const by = Object.fromEntries(records.map((x) => [x.message_id, x]));

    const approved = by[ids.approved!];
    expect(approved).toMatchObject({
      type: 'message',
      mailbox: 'agent@mailgate.test',
      agent: 'mcp:agent/export-test',
      subject: 'approved as is',
      recipients: { to: ['you@mailgate.test'], cc: [], bcc: [] },
      gate: { mode_at_submit: 'gated_send', code: 'mode_requires_approval' },
      reviewer_saw: { edited: false },
      decision: { action: 'approved', by: 'cli:auditor-test', reason: 'fine' },
      delivery: { status: 'sent', result_event: { action: 'message.sent' } },
    });
    expect(approved.reviewer_saw.content_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(approved.decision.time_to_decide_ms).toBeGreaterThanOrEqual(0);
    expect(Date.parse(approved.drafted_at)).toBeLessThanOrEqual(Date.parse(approved.decision.at));
    expect(approved.events.map((e: any) => e.action)).toEqual(['message.held', 'message.approved', 'message.sent']);
    for (const e of approved.events) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);

    expect(by[ids.edited!]).toMatchObject({
      subject: 'approved with edits (fixed)',
      reviewer_saw: { edited: true, original: { subject: 'approved with edits' }, approved: { subject: 'approved with edits (fixed)' } },
      delivery: { status: 'sent' },
    });
    expect(by[ids.rejected!]).toMatchObject({
      reviewer_saw: null,
      decision: { action: 'rejected', reason: 'wrong tone' },
      delivery: { status: 'rejected', sent_at: null, result_event: null },
    });
    expect(by[ids.held!]).toMatchObject({ decision: null, reviewer_saw: null, delivery: { status: 'pending' } });
    expect(by[ids.autonomous!]).toMatchObject({ gate: { mode_at_submit: 'autonomous', code: 'mode_allows' }, decision: null, delivery: { status: 'sent' } });
  });

  it('filters by mailbox and date, and writes to --out', async () => {
    const mine = await runCli(['audit', 'export', '--db', db, '--mailbox', 'you@mailgate.test'], { home: tmp.path });
    expect(
      lines(mine.stdout)
        .slice(1)
        .map((x) => x.message_id),
    ).toEqual([ids.autonomous]);
    const future = await runCli(['audit', 'export', '--db', db, '--since', '2999-01-01'], { home: tmp.path });
    expect(lines(future.stdout)).toHaveLength(1);
    const bad = await runCli(['audit', 'export', '--db', db, '--since', 'yesterday-ish'], { home: tmp.path });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--since');
    const out = tmp.file('export.jsonl');
    const toFile = await runCli(['audit', 'export', '--db', db, '--out', out], { home: tmp.path });
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toBe('');
    expect(lines(readFileSync(out, 'utf8'))).toHaveLength(Object.keys(ids).length + 1);
  });

  it('reports a tampered chain in its first line and exits 1', async () => {
    const conn = new Database(db);
    conn.exec('DROP TRIGGER audit_events_no_update');
    const seq = conn.prepare("SELECT seq FROM audit_events WHERE action = 'message.rejected'").pluck().get() as number;
    conn.prepare("UPDATE audit_events SET detail = json_set(detail, '$.reason', 'looked fine') WHERE seq = ?").run(seq);
    conn.close();
    const r = await runCli(['audit', 'export', '--db', db], { home: tmp.path });
    expect(r.code).toBe(1);
    expect(lines(r.stdout)[0]).toMatchObject({ type: 'chain', ok: false, first_bad_seq: seq });
  });
});
