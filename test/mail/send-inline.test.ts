/**
 * send_email on an autonomous mailbox delivers its own message within the request and nothing else (issue 14):
 * another mailbox's backlog, queued behind an SMTP server that never answers, is not attempted by this request,
 * so one agent's latency does not depend on another's backlog. The worker delivers the rest in the background.
 * Real app (SQLite file), real SMTP delivery to two fake servers on 127.0.0.1, one of them stalled.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { sendEmail } from '../../src/services/send.js';
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js';
import { AGENT, startInstance, useBackends } from '../instances/helpers.js';
import { content, submit } from '../store/fixtures.js';

const AUTO = 'auto@mailgate.test';
const STUCK = 'stuck@mailgate.test';
const { dir, backends } = useBackends('mailgate-send-inline-', false);
let open: FakeSmtp;
let stalled: FakeSmtp;
let app: App | undefined;

beforeAll(async () => {
  open = await startFakeSmtp();
  stalled = await startFakeSmtp();
  // Connects, then never greets: a delivery attempt to it hangs until the client's timeout.
  stalled.script.connect = () => ({ do: 'stall' });
});
afterEach(async () => {
  await app?.close();
});
afterAll(async () => {
  await open?.stop();
  await stalled?.stop();
});

function mailbox(address: string, smtp: FakeSmtp) {
  const account = { host: '127.0.0.1', port: smtp.port, user: smtp.user, password: smtp.password };
  // IMAP settings are required for a real mailbox; nothing here reads mail or appends a Sent copy.
  return {
    address,
    oversight_mode: 'autonomous',
    smtp: { ...account, starttls: false, timeout_seconds: 30 },
    imap: { ...account, save_sent: false },
  };
}

it("an autonomous send is delivered in the request without attempting another mailbox's backlog", async () => {
  const database = await backends[0]!.freshDatabase();
  app = await startInstance(dir, database, { mailboxes: [mailbox(AUTO, open), mailbox(STUCK, stalled)] });
  // STUCK's backlog is older than the send, so a pass over every mailbox (claims go oldest first) would take it first.
  const backlog = [];
  for (let i = 0; i < 3; i++) {
    const r = await submit(app.store, STUCK, content({ subject: `backlog ${i}`, to: ['bob@example.org'] }), { now: Date.now() - 60_000 });
    expect(r.message.status).toBe('queued');
    backlog.push(r.message.message_id);
  }

  const sent = await sendEmail(app, AGENT, { mailbox: AUTO, to: ['bob@example.org'], subject: 'Mine', text: 'Only mine.' });

  expect(sent.status).toBe('sent');
  const mine = (await app.store.getMessage(sent.message_id))!;
  expect(open.copies(mine.message_id_header)).toBe(1);
  // The request never touched the other mailbox's queue: no connection to its server, nothing claimed or charged.
  expect(stalled.connections()).toBe(0);
  for (const id of backlog) expect(await app.store.getMessage(id)).toMatchObject({ status: 'queued', attempts: 0, lease_owner: null });
});
