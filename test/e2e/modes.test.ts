/**
 * Oversight modes from a config file, through a spawned agent server: read_only blocks, autonomous sends at
 * once, gated_send holds. The file's mailboxes replace the built-in sandbox pair.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, holdsFor, inbox, ok, type ServerHandle, startServer, textOf, waitForStatus, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-modes-');
const db = tmp.file('modes.db');
const config = writeConfig(tmp.file('mailgate.json'), {
  testing: { allow_short_ttl: true }, // the 2s pending_ttl below: a test watches held mail expire
  mailboxes: [
    { address: 'ro@mailgate.test', oversight_mode: 'read_only' },
    { address: 'auto@mailgate.test', oversight_mode: 'autonomous' },
    { address: 'held@mailgate.test', approval_mode: 'all' },
    { address: 'inbox@mailgate.test', autonomy_level: 3 },
    { address: 'short@mailgate.test', oversight_mode: 'gated_send', pending_ttl: '2s' },
  ],
});
let agent: ServerHandle;

beforeAll(async () => {
  assertBuilt();
  // Delivery polls every 200 ms (1 s by default), so the window below that proves nothing leaves spans several.
  agent = await startServer({ role: 'agent', db, config, home: tmp.path, env: { MAILGATE_DELIVERY_POLL_MS: '200' } });
});

afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

const mail = (mailbox: string, subject: string) => ({ mailbox, to: 'inbox@mailgate.test', subject, text: 'hello' });

describe('modes from a config file', () => {
  it('blocks a send from a read_only mailbox as an isError result with error action_blocked', async () => {
    const r = await agent.call('send_email', mail('ro@mailgate.test', 'From read-only'));
    expect(r.isError).toBe(true);
    const s = r.structuredContent as { status: string; error: string; reason: string; message_id: string };
    expect(s).toMatchObject({ status: 'blocked', error: 'action_blocked' });
    expect(s.reason).toMatch(/read_only/);
    expect(textOf(r)).toContain('action_blocked');

    const detail = ok<{ status: string; gate: { code: string } }>(await agent.call('get_message', { message_id: s.message_id }));
    expect(detail).toMatchObject({ status: 'blocked', gate: { code: 'action_blocked' } });
    // Three worker passes: a blocked row is never claimed.
    await holdsFor(async () => (await inbox(agent, 'inbox@mailgate.test')).every((e) => e.subject !== 'From read-only'), 600, 'nothing delivered');
  });

  it('sends at once from an autonomous mailbox: status sent and already in the inbox', async () => {
    const s = ok<{ status: string; message_id: string }>(await agent.call('send_email', mail('auto@mailgate.test', 'From autonomous')));
    expect(s.status).toBe('sent');
    const hits = (await inbox(agent, 'inbox@mailgate.test')).filter((e) => e.subject === 'From autonomous');
    expect(hits).toHaveLength(1);
    expect(hits[0]!.from).toBe('auto@mailgate.test');
    const sentCopy = ok<{ emails: { subject: string }[] }>(await agent.call('check_inbox', { mailbox: 'auto@mailgate.test', folder: 'Sent' }));
    expect(sentCopy.emails.filter((e) => e.subject === 'From autonomous')).toHaveLength(1);
  });

  it('holds a send from an approval_mode "all" mailbox (alias of gated_send)', async () => {
    const s = ok<{ status: string }>(await agent.call('send_email', mail('held@mailgate.test', 'From held')));
    expect(s.status).toBe('pending');
  });

  it('does not create the built-in sandbox mailboxes when a config file is given', async () => {
    const r = await agent.call('send_email', { mailbox: 'agent@mailgate.test', to: 'inbox@mailgate.test', subject: 'x', text: 'y' });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toContain('UNKNOWN_MAILBOX');
  });

  it('expires a held message after its pending_ttl: the agent sees expired, a late approval loses, nothing is sent', async () => {
    const s = ok<{ status: string; message_id: string; expires_at: string }>(await agent.call('send_email', mail('short@mailgate.test', 'Too late')));
    expect(s.status).toBe('pending');
    expect(Date.parse(s.expires_at) - Date.now()).toBeLessThan(2500);
    // The agent's own background worker expires it; mail_wait returns as soon as it does.
    const waited = ok<{ status: string; timed_out: boolean }>(await agent.call('mail_wait', { message_id: s.message_id, timeout_seconds: 8 }));
    expect(waited).toMatchObject({ status: 'expired', timed_out: false });
    const reviewer = await startServer({ role: 'reviewer', db, config, home: tmp.path });
    const late = await reviewer.call('queue_approve', { message_id: s.message_id });
    expect(late.isError).toBe(true);
    expect(textOf(late)).toContain('NOT_PENDING');
    await reviewer.close();
    await waitForStatus(agent, s.message_id, ['expired']);
    expect((await inbox(agent, 'inbox@mailgate.test')).filter((e) => e.subject === 'Too late')).toHaveLength(0);
  });
});
