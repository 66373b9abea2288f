/**
 * A human decides from the CLI (a separate, short-lived process) while the agent's server keeps running on
 * the same database: the agent's mail_wait observes the decision, and the audit log names the human.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, inbox, ok, runCli, type ServerHandle, startServer } from './harness.js';

const tmp = tempDir('mailgate-e2e-cli-approval-');
const db = tmp.file('shared.db');
const home = tmp.path;
let agent: ServerHandle;

beforeAll(async () => {
  assertBuilt();
  agent = await startServer({ role: 'agent', db, home });
});

afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

interface Waited {
  status: string;
  reason: string | null;
  timed_out: boolean;
  waited_seconds: number;
}

async function hold(subject: string): Promise<string> {
  const s = ok<{ status: string; message_id: string }>(
    await agent.call('send_email', {
      mailbox: 'agent@mailgate.test',
      to: 'you@mailgate.test',
      subject,
      text: 'please approve',
    }),
  );
  expect(s.status).toBe('pending');
  return s.message_id;
}

describe('decisions from the CLI while the agent server runs', () => {
  it('approve --as alice: the running agent mail_wait sees sent; audit names cli:alice', async () => {
    const id = await hold('Approved from the terminal');
    // mail_wait is already waiting in the server when the CLI process approves.
    const waiting = agent.call('mail_wait', { message_id: id, timeout_seconds: 4 });
    const cli = await runCli(['approve', id, '--db', db, '--as', 'alice', '--note', 'ok by me'], { home });
    expect(cli.stderr).not.toContain('mailgate:');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`${id}: (sent|sending|approved)`));

    const waited = ok<Waited>(await waiting);
    // With no reply, mail_wait keeps waiting after delivery and reports the status it reached.
    expect(waited.status).toBe('sent');

    const trail = await runCli(['audit', '--message', id, '--json', '--db', db], { home });
    expect(trail.code).toBe(0);
    const events = (JSON.parse(trail.stdout) as { events: { action: string; actor: string; detail: Record<string, unknown> }[] }).events;
    const approvals = events.filter((e) => e.action === 'message.approved');
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ actor: 'cli:alice', detail: { reason: 'ok by me' } });
    expect(events.filter((e) => e.action === 'message.sent')).toHaveLength(1);
    expect(events.map((e) => e.action)).toEqual(['message.held', 'message.approved', 'message.sent']);

    expect((await inbox(agent, 'you@mailgate.test')).filter((e) => e.subject === 'Approved from the terminal')).toHaveLength(1);
    const detail = ok<{ decided_by: string }>(await agent.call('get_message', { message_id: id }));
    expect(detail.decided_by).toBe('cli:alice');
  });

  it('reject --reason: the agent mail_wait returns at once with the rejection and its reason', async () => {
    const id = await hold('Rejected from the terminal');
    const waiting = agent.call('mail_wait', { message_id: id, timeout_seconds: 20 });
    const started = Date.now();
    const cli = await runCli(['reject', id, '--reason', 'wrong recipient', '--db', db, '--as', 'bob'], { home });
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(`${id}: rejected`);
    const waited = ok<Waited>(await waiting);
    expect(waited).toMatchObject({ status: 'rejected', reason: 'wrong recipient', timed_out: false });
    expect(Date.now() - started).toBeLessThan(10_000);

    const again = await runCli(['approve', id, '--db', db, '--as', 'alice'], { home });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('NOT_PENDING');
  });

  it('pending --json from the CLI lists what the agent server holds', async () => {
    const id = await hold('Listed by the CLI');
    const r = await runCli(['pending', '--json', '--db', db], { home });
    expect(r.code).toBe(0);
    const page = JSON.parse(r.stdout) as { messages: { message_id: string; subject: string }[]; next_cursor: string | null };
    expect(page.messages.map((m) => m.message_id)).toContain(id);
    expect(page.next_cursor).toBeNull();
  });
});
