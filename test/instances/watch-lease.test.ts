/**
 * One IMAP watcher per mailbox across instances (src/services/inbox-watch.ts), against the private Dovecot and
 * Postfix: of two apps with `watch` on one database, only the lease holder runs IDLE for the mailbox, and Dovecot
 * sees its connections alone; mail it syncs wakes mail_wait on the other instance; when the holder closes, the
 * other takes over at once, and a holder that died (its lease left behind, never renewed) is replaced once the
 * lease runs out. On a SQLite file and on PostgreSQL.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { sendEmail } from '../../src/services/send.js';
import { waitForMessage } from '../../src/services/wait.js';
import { type MailServers, type MailUser, requireMailServersOrSkip, startMailServers } from '../helpers/mail-servers.js';
import { requirePostgresOrSkip } from '../helpers/postgres.js';
import { AGENT, openInstance, settle, startInstance, until, useBackends } from './helpers.js';

const run = promisify(execFile);
const HOUR = 3_600_000;
const hasMail = requireMailServersOrSkip();
const { dir, backends } = useBackends('mailgate-watch-lease-', hasMail && requirePostgresOrSkip());
let mail: MailServers;
let alice: MailUser;
let bob: MailUser;

beforeAll(async () => {
  if (!hasMail) return;
  mail = await startMailServers({ users: ['alice', 'bob'] });
  [alice, bob] = mail.users as [MailUser, MailUser];
}, 60_000);
afterAll(async () => {
  await mail?.stop();
});

/** Dovecot's own count of alice's IMAP connections (doveadm who, through this instance's anvil). */
async function imapConnections(user: MailUser): Promise<number> {
  const { stdout } = await run('doveadm', ['-c', join(mail.dir, 'dovecot.conf'), 'who', '-1', user.user]).catch(() => ({ stdout: '' }));
  return stdout.split('\n').filter((l) => l.includes(user.user)).length;
}

describe.skipIf(!hasMail).each(backends)('the IMAP watcher lease on $name', (backend) => {
  const apps: App[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0).reverse()) await app.close();
  });

  function config() {
    const account = { host: '127.0.0.1', secure: false, user: alice.user, password: alice.password };
    return {
      mailboxes: [
        {
          address: alice.address,
          oversight_mode: 'autonomous',
          imap: { ...account, port: mail.imap.port, heartbeat_seconds: 1 },
          smtp: { ...account, port: mail.smtp.port, timeout_seconds: 10 },
        },
      ],
    };
  }

  async function instance(database: string, leaseMs: number): Promise<App> {
    const app = await startInstance(dir, database, config(), { background: true, watch: true, watchLease: { leaseMs }, worker: { pollMs: HOUR } });
    apps.push(app);
    return app;
  }

  /** Whether the app's IDLE connection for alice is up. */
  const idle = async (app: App) => app.transports.forMailbox((await app.store.getMailbox(alice.address))!).mailbox!.watching;
  const watching = (app: App) => app.watchers!.watching();

  it('runs on one instance only, whose syncs wake mail_wait on the other', async () => {
    const database = await backend.freshDatabase();
    await settle(async () => (await imapConnections(alice)) === 0, "the earlier tests' connections to close");
    const a = await instance(database, 30_000);
    const b = await instance(database, 30_000);
    expect(watching(a)).toEqual([alice.address]);
    expect(watching(b)).toEqual([]);
    await settle(() => idle(a), "A's IDLE connection");
    expect(await idle(b)).toBe(false);
    // A's IDLE connection and the one its INBOX sync used; B, which has read nothing, holds none.
    await settle(async () => (await imapConnections(alice)) === 2, 'Dovecot to count two connections for alice');

    // B sends (autonomous: at once) and waits for the reply; A's watcher stores it, and the signal wakes B.
    const sent = await sendEmail(b, AGENT, { mailbox: alice.address, to: [bob.address], subject: 'Question from B', text: 'Well?' });
    const delivered = await until(
      b.store,
      async () => {
        const m = await b.store.getMessage(sent.message_id);
        return m?.status === 'sent' && m;
      },
      'the send',
    );
    const header = delivered.message_id_header;
    const sleeping = b.changes.listenerCount('change');
    const waiting = waitForMessage(b, AGENT, sent.message_id, { timeoutMs: 30_000, pollMs: HOUR });
    await settle(async () => b.changes.listenerCount('change') > sleeping, 'mail_wait on B to be waiting');
    const deliveredAt = Date.now();
    await mail.deliver(reply(header, bob.address, alice.address), alice.address);
    const r = await waiting;
    expect(r).toMatchObject({ timed_out: false, reply: { from_addr: bob.address, subject: 'Re: Question from B' } });
    process.stderr.write(`[watch-lease ${backend.name}] reply delivered -> mail_wait on the other instance: ${Date.now() - deliveredAt} ms\n`);
  });

  it('moves to the other instance at once when its holder closes', async () => {
    const database = await backend.freshDatabase();
    // Renewals and retries every 20 s: only the signal of the lease given up can bring the takeover sooner.
    const a = await instance(database, 60_000);
    const b = await instance(database, 60_000);
    expect(watching(a)).toEqual([alice.address]);
    const closedAt = Date.now();
    apps.splice(apps.indexOf(a), 1);
    await a.close();
    await settle(() => idle(b), "B's IDLE connection", 5000);
    expect(watching(b)).toEqual([alice.address]);
    expect(Date.now() - closedAt).toBeLessThan(5000);
  });

  it('is taken over when a holder that died leaves its lease to run out', async () => {
    const database = await backend.freshDatabase();
    // What a killed instance leaves behind: the lease row, renewed by nobody.
    const ghost = await openInstance(database);
    const diedAt = Date.now();
    expect(await ghost.acquireLease(`imap-watch:${alice.address}`, 'elsewhere:4242:dead', 2000, diedAt)).toBe(true);
    await ghost.close();
    const a = await instance(database, 1500);
    const b = await instance(database, 1500);
    expect([...watching(a), ...watching(b)]).toEqual([]);
    await settle(async () => watching(a).length + watching(b).length > 0, 'an instance to take the lease over', 6000);
    const tookOver = Date.now() - diedAt;
    expect(tookOver).toBeGreaterThanOrEqual(2000);
    expect(tookOver).toBeLessThan(2000 + 1500);
    expect([...watching(a), ...watching(b)]).toEqual([alice.address]);
    const holder = watching(a).length ? a : b;
    await settle(() => idle(holder), "the new holder's IDLE connection");
    expect(await idle(holder === a ? b : a)).toBe(false);
  });
});

function reply(parent: string, from: string, to: string): string {
  return [
    `From: ${from}`,
    `To: ${to}`,
    'Subject: Re: Question from B',
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <reply-${Date.now()}@example.org>`,
    `In-Reply-To: ${parent}`,
    `References: ${parent}`,
    'Content-Type: text/plain',
    '',
    'Yes.',
    '',
  ].join('\r\n');
}
