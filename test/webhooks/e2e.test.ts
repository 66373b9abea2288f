/**
 * Through spawned `mailgate serve` processes (the built CLI) with a config file holding a webhook: a held
 * send produces a signed email.pending POST; two servers on one database deliver each event once; a server
 * killed after the receiver answered and before it recorded that (SIGKILL at a fault point) leads to the
 * same event being sent again, with the same webhook-id, by the next server: at least once, never lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, closeAll, holdsFor, isAlive, ok, startServer, waitFor, writeConfig } from '../e2e/harness.js';
import { tempDir } from '../helpers/tmp.js';
import { GATED, MAILBOXES, type Receiver, SHORT_TTL, secret, startReceiver, stopReceivers, verify } from './helpers.js';

const tmp = tempDir('mailgate-webhook-e2e-');
const SECRET = secret();
const TUNING = { MAILGATE_WEBHOOK_POLL_MS: '50', MAILGATE_WEBHOOK_RETRY_BASE_MS: '50', MAILGATE_LOG_LEVEL: 'warn' };
let rx: Receiver;

beforeAll(async () => {
  assertBuilt();
  rx = await startReceiver();
});
afterAll(async () => {
  await closeAll();
  await stopReceivers();
  tmp.cleanup();
});

function setup(name: string) {
  const config = writeConfig(tmp.file(`${name}.json`), {
    mailboxes: MAILBOXES,
    testing: SHORT_TTL,
    webhooks: [{ url: `${rx.url}/${name}`, secret: SECRET, allow_private_network: true }],
  });
  return { config, db: tmp.file(`${name}.db`), home: tmp.path };
}

const sendHeld = async (s: Awaited<ReturnType<typeof startServer>>, subject: string) =>
  ok<{ message_id: string; status: string }>(await s.call('send_email', { mailbox: GATED, to: 'bob@example.com', subject, text: 'body' }));

const forPath = (name: string) => rx.received.filter((r) => r.path === `/hooks/${name}`);

describe('mailgate serve with a webhook in its config', () => {
  it('a held send produces a signed email.pending POST', async () => {
    const s = await startServer({ role: 'agent', ...setup('held'), env: TUNING });
    const { message_id, status } = await sendHeld(s, 'Needs a look');
    expect(status).toBe('pending');
    await waitFor(() => forPath('held').length === 1, 10_000, 'email.pending at the receiver');
    const [r] = forPath('held');
    expect(verify(SECRET, r!)).toMatchObject({ type: 'email.pending', data: { message_id, mailbox: GATED, status: 'pending', subject: 'Needs a look' } });
    await s.close();
  });

  it('two servers on one database deliver each event once', async () => {
    const env = { ...setup('two'), env: { ...TUNING, MAILGATE_WEBHOOK_POLL_MS: '10' } };
    const [a, b] = [await startServer({ role: 'agent', ...env }), await startServer({ role: 'agent', ...env })];
    for (let i = 0; i < 10; i++) await sendHeld(i % 2 ? a : b, `held ${i}`);
    await waitFor(() => forPath('two').length >= 10, 10_000, '10 events');
    await holdsFor(() => forPath('two').length === 10, 300, 'ten events, no duplicate'); // room for one to show up
    const ids = forPath('two').map((r) => r.id);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
    await Promise.all([a.close(), b.close()]);
  });

  it('killed between the receiver’s 200 and recording it: sent again by the next server with the same webhook-id', async () => {
    const env = setup('crash');
    const doomed = await startServer({ role: 'agent', ...env, env: { ...TUNING, MAILGATE_FAULT_POINT: 'webhook_after_post' } });
    // The server may die before or after its reply to the call reaches us; the receiver is the oracle.
    await sendHeld(doomed, 'Crash after POST').catch(() => undefined);
    await waitFor(() => !isAlive(doomed.pid), 10_000, 'the server to kill itself at webhook_after_post');
    await doomed.close().catch(() => undefined);
    expect(forPath('crash')).toHaveLength(1);

    const next = await startServer({ role: 'agent', ...env, env: TUNING });
    await waitFor(() => forPath('crash').length === 2, 10_000, 'the redelivery');
    const [first, again] = forPath('crash');
    expect(again!.id).toBe(first!.id);
    expect(again!.body).toBe(first!.body);
    expect(() => verify(SECRET, again!)).not.toThrow();
    await holdsFor(() => forPath('crash').length === 2, 200, 'one redelivery, no third POST');
    await next.close();
  });
});
