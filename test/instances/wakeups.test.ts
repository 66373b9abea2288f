/**
 * Cross-instance wake-ups: two apps on one database, A a server whose delivery worker and webhook dispatcher poll
 * only once an hour, B an instance that decides and drafts (a reviewer's instance without the SMTP account, so it
 * cannot deliver the mail itself). What B commits must reach A's worker, mail_wait and dispatcher at once, through
 * the change signals: on PostgreSQL over LISTEN/NOTIFY (also after its LISTEN connection was killed), on SQLite
 * between the stores of one process.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startDashboardServer } from '../../src/dashboard/standalone.js';
import { approveMessage, rejectMessage } from '../../src/services/review.js';
import { sendEmail } from '../../src/services/send.js';
import { createToken } from '../../src/services/tokens.js';
import { waitForMessage } from '../../src/services/wait.js';
import { newWebhookSecret } from '../../src/webhooks/sign.js';
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js';
import { AGENT, listeners, REVIEWER, settle, startHookReceiver, startInstance, until, useBackends } from './helpers.js';

const OPS = 'ops@mailgate.test';
const HOUR = 3_600_000;
/** How soon A must act on B's change: far below any poll A runs. */
const PROMPTLY_MS = 3000;

const { dir, backends, cluster } = useBackends('mailgate-wakeups-');
let smtp: FakeSmtp;
let hook: Awaited<ReturnType<typeof startHookReceiver>>;

beforeAll(async () => {
  smtp = await startFakeSmtp();
  hook = await startHookReceiver();
}, 60_000);
afterAll(async () => {
  await hook?.stop();
  await smtp?.stop();
});

describe.each(backends)('wake-ups between instances on $name', (backend) => {
  let a: App;
  let b: App;
  let database: string;

  afterEach(async () => {
    await b?.close();
    await a?.close();
  });

  async function startBoth(): Promise<void> {
    database = await backend.freshDatabase();
    const webhooks = [{ url: hook.url, secret: newWebhookSecret(), events: ['email.pending'], allow_private_network: true }];
    const smtpAccount = { host: '127.0.0.1', port: smtp.port, user: smtp.user, password: smtp.password, starttls: false, timeout_seconds: 5 };
    // A real mailbox needs IMAP settings too; nothing here reads or watches it, and no Sent copy is appended.
    const imapAccount = { host: '127.0.0.1', port: smtp.port, user: smtp.user, password: smtp.password, save_sent: false };
    const mailbox = { address: OPS, oversight_mode: 'gated_send', smtp: smtpAccount, imap: imapAccount };
    const server = { background: true, worker: { pollMs: HOUR }, webhooks: { pollMs: HOUR } };
    a = await startInstance(dir, database, { mailboxes: [mailbox], webhooks }, server);
    // The same endpoints (a start disables those its config lacks); no mailboxes, so no account to deliver with.
    b = await startInstance(dir, database, { mailboxes: [], webhooks });
    if (backend.name === 'postgres') await settle(async () => (await listeners(cluster(), database)).length === 1, "A's LISTEN connection");
  }

  async function draftOnA(subject: string): Promise<string> {
    const r = await sendEmail(a, AGENT, { mailbox: OPS, to: ['bob@mailgate.test'], subject, text: 'Please approve.' });
    expect(r.status).toBe('pending');
    return r.message_id;
  }

  /** Approves on B and waits (on A's change signals) until A's worker has delivered: the time it took. */
  async function approveOnBDeliveredByA(id: string): Promise<number> {
    const header = (await a.store.getMessage(id))!.message_id_header;
    const started = Date.now();
    // B has no account for the mailbox, so its own pass after the approval cannot deliver: only A can.
    expect(b.transports.canServe((await b.store.getMailbox(OPS))!)).toBe(false);
    await approveMessage(b, REVIEWER, id);
    await until(a.store, async () => (await a.store.getMessage(id))?.status === 'sent', `A delivering ${id}`, PROMPTLY_MS);
    expect(smtp.copies(header)).toBe(1);
    return Date.now() - started;
  }

  it("a decision on B wakes A's delivery worker, which delivers at once", async () => {
    await startBoth();
    const ms = await approveOnBDeliveredByA(await draftOnA('Approve me on B'));
    process.stderr.write(`[wakeups ${backend.name}] approved on B -> sent by A: ${ms} ms (A polls hourly)\n`);
  });

  it('mail_wait on A returns as soon as B records the decision', async () => {
    await startBoth();
    const id = await draftOnA('Reject me on B');
    const sleeping = a.changes.listenerCount('change');
    const waiting = waitForMessage(a, AGENT, id, { timeoutMs: 30_000, pollMs: HOUR });
    await settle(async () => a.changes.listenerCount('change') > sleeping, 'mail_wait to be waiting');
    const started = Date.now();
    await rejectMessage(b, REVIEWER, id, 'not this one');
    const r = await waiting;
    expect(r).toMatchObject({ timed_out: false, message: { status: 'rejected' } });
    expect(Date.now() - started).toBeLessThan(PROMPTLY_MS);
  });

  it("a webhook event queued on B is dispatched by A's dispatcher at once", async () => {
    await startBoth();
    const received = hook.next(PROMPTLY_MS);
    const r = await sendEmail(b, AGENT, { mailbox: OPS, to: ['bob@mailgate.test'], subject: 'Held on B', text: 'Hello' });
    expect(r.status).toBe('pending');
    const body = JSON.parse(await received) as { type: string; data: { message_id: string } };
    expect(body).toMatchObject({ type: 'email.pending', data: { message_id: r.message_id } });
  });

  it("the dashboard's live queue on A is nudged as soon as B decides", async () => {
    await startBoth();
    const id = await draftOnA('Decide me on B while A shows the queue');
    const dashboard = await startDashboardServer(a, { pollMs: HOUR });
    const operator = { id: 'cli:test', roles: ['reviewer', 'operator'] as const, mailboxes: 'all' as const };
    const { token } = await createToken(a, { ...operator, roles: [...operator.roles] }, { name: 'desk', roles: ['reviewer'], mailboxes: 'all' });
    const events = await openEvents(dashboard.url, token);
    try {
      const nudged = events.next('event: change', PROMPTLY_MS);
      await rejectMessage(b, REVIEWER, id, 'not this one');
      await nudged;
    } finally {
      events.close();
      await dashboard.close();
    }
  });

  // Only PostgreSQL has a LISTEN connection to lose; registered for it alone rather than skipped on SQLite.
  if (backend.name === 'postgres') {
    it('after its LISTEN connection is killed, A reconnects and is still woken by B', async () => {
      await startBoth();
      const [before] = await listeners(cluster(), database);
      await cluster().admin('SELECT pg_terminate_backend($1)', [before]);
      await settle(async () => {
        const now = await listeners(cluster(), database);
        return now.length === 1 && now[0] !== before;
      }, "A's new LISTEN connection");
      await approveOnBDeliveredByA(await draftOnA('Approve me after the kill'));
    });
  }
});

/** Signs in to the dashboard with `token` and opens its live feed (Server-Sent Events). */
async function openEvents(url: string, token: string): Promise<{ next(frame: string, timeoutMs: number): Promise<void>; close(): void }> {
  const signIn = await fetch(new URL('/login', url), { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
  const cookie = signIn.headers.get('set-cookie')?.split(';')[0];
  if (!cookie) throw new Error(`the dashboard sign-in failed: ${signIn.status}`);
  let text = '';
  /** Frames waited for, each looked for only in what arrives after its wait began. */
  const waiting: { frame: string; from: number; resolve: () => void }[] = [];
  const req = request(new URL('/events', url), { headers: { Cookie: cookie } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      for (const w of waiting.splice(0)) {
        if (text.slice(w.from).includes(w.frame)) w.resolve();
        else waiting.push(w);
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  const wait = (frame: string, timeoutMs: number, from: number) =>
    new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no '${frame}' on the live feed within ${timeoutMs} ms`)), timeoutMs);
      waiting.push({
        frame,
        from,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  const feed = { next: (frame: string, timeoutMs: number) => wait(frame, timeoutMs, text.length), close: () => req.destroy() };
  // The feed's first frame is written once this client is subscribed: changes after it reach it.
  await wait('retry:', 5000, 0);
  return feed;
}
