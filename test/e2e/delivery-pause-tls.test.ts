/**
 * The two other failure paths of issue 10 through spawned `mailgate serve` processes: a TLS failure (a
 * certificate the client cannot verify) pauses the mailbox like a 535 does, and the breaker holds a whole
 * mailbox back after repeated 4xx from its server, then resets on the next success.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Server as NetServer } from 'node:net';
import Database from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js';
import { tempDir } from '../helpers/tmp.js';
import { holdsFor, ok, runCli, waitFor } from './harness.js';
import { assertFreshBuild, closeAllProcs, rows, serve, smtpMailbox, unusedPort } from './smtp-harness.js';

const tmp = tempDir('mailgate-e2e-delivery-pause-tls-');
const home = tmp.path;
// The start-up check (a second after the handshake) would open a connection of its own that these tests,
// which count the scripted server's connections while delivery is paused or held, would take for a retry.
const TUNING = {
  MAILGATE_DELIVERY_LEASE_MS: '1000',
  MAILGATE_DELIVERY_POLL_MS: '100',
  MAILGATE_RETRY_BASE_MS: '300',
  MAILGATE_NO_STARTUP_CHECK: '1',
};
let closedPort = 0;
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  assertFreshBuild();
  closedPort = await unusedPort();
});
afterAll(async () => {
  await closeAllProcs();
  for (const stop of stops) await stop();
  tmp.cleanup();
});

interface DeliveryState {
  delivery_paused_at: number | null;
  delivery_paused_reason: string | null;
  delivery_failures: number;
  delivery_held_until: number | null;
}

function readDb<T>(db: string, fn: (conn: Database.Database) => T): T {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return fn(conn);
  } finally {
    conn.close();
  }
}

const stateOf = (db: string, address: string) =>
  readDb(
    db,
    (c) =>
      c
        .prepare('SELECT delivery_paused_at, delivery_paused_reason, delivery_failures, delivery_held_until FROM mailboxes WHERE address = ?')
        .get(address) as DeliveryState,
  );

const auditOf = (db: string, action: string) =>
  readDb(
    db,
    (c) =>
      c.prepare('SELECT actor, mailbox, detail FROM audit_events WHERE action = ? ORDER BY seq').all(action) as {
        actor: string;
        mailbox: string;
        detail: string;
      }[],
  );

/** A self-signed certificate for 127.0.0.1 (as the subjectAltName), so it verifies once given as the CA. */
function selfSignedCert(): { key: string; cert: string; certFile: string } {
  const keyFile = tmp.file('tls-key.pem');
  const certFile = tmp.file('tls-cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-days',
      '1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), certFile };
}

/**
 * An SMTP server with TLS from the first byte (implicit TLS, as on 465), on 127.0.0.1. It counts TCP
 * connections (including those whose handshake the client aborts) and keeps the Message-IDs it accepted.
 */
async function startTlsSmtp(key: string, cert: string) {
  const user = 'mailgate-tls';
  const password = 'Tls-Pa55word!';
  const state = { tcp: 0, accepted: [] as string[] };
  const server = new SMTPServer({
    secure: true,
    key,
    cert,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    closeTimeout: 100,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === password) return cb(null, { user });
      cb(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (b: Buffer) => chunks.push(b));
      stream.on('end', () => {
        const head = Buffer.concat(chunks)
          .toString('latin1')
          .split(/\r?\n\r?\n/)[0]!;
        state.accepted.push(/^message-id:[ \t]*(.+?)[ \t]*$/im.exec(head)?.[1] ?? '');
        cb(null, '2.0.0 Ok: queued');
      });
    },
  });
  server.on('error', () => undefined); // refused handshakes are expected
  const net = (server as unknown as { server: NetServer }).server;
  net.on('connection', () => state.tcp++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  stops.push(() => new Promise<void>((r) => server.close(() => r())));
  return { state, port: (net.address() as AddressInfo).port, user, password };
}

describe('a TLS failure', () => {
  it('pauses the mailbox (the message stays queued, mailbox.paused names tls.ca_file); a config with the CA resumes and sends once', async () => {
    const { key, cert, certFile } = selfSignedCert();
    const tls = await startTlsSmtp(key, cert);
    const address = 'tls@corp.example';
    const db = tmp.file('tls.db');
    const config = tmp.file('tls.json');
    const smtp = { host: '127.0.0.1', port: tls.port, user: tls.user, password: tls.password, secure: true, timeout_seconds: 2 };
    const mailbox = (extra: Record<string, unknown> = {}) => ({
      address,
      display_name: 'TLS Test',
      oversight_mode: 'autonomous',
      imap: { host: '127.0.0.1', port: closedPort, user: tls.user, password: tls.password, save_sent: false, heartbeat_seconds: 60 },
      smtp: { ...smtp, ...extra },
    });
    writeFileSync(config, JSON.stringify({ mailboxes: [mailbox()] }));

    const proc = await serve({ config, db, home, env: TUNING });
    let header = '';
    try {
      const sent = ok<{ message_id: string }>(await proc.call('send_email', { mailbox: address, to: 'ann@dest.example', subject: 'over tls', text: 'x' }));
      await waitFor(() => stateOf(db, address).delivery_paused_at !== null, 10_000, 'the mailbox to pause');
      expect(stateOf(db, address).delivery_paused_reason).toMatch(/TLS failed \(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\)/);
      const [row] = rows(db);
      header = row!.message_id_header;
      expect(row).toMatchObject({ message_id: sent.message_id, status: 'queued', attempts: 0 });
      // The client did reach the server and refused its certificate: no message went over the wire.
      expect(tls.state.tcp).toBeGreaterThanOrEqual(1);
      expect(tls.state.accepted).toEqual([]);

      const audit = await runCli(['audit', '--mailbox', address, '--json', '--config', config, '--db', db], { home, env: TUNING });
      expect(audit.code, audit.stderr).toBe(0);
      const { events } = JSON.parse(audit.stdout) as { events: { actor: string; action: string; detail: Record<string, unknown> }[] };
      const paused = events.filter((e) => e.action === 'mailbox.paused');
      expect(paused).toHaveLength(1);
      expect(paused[0]!.actor).toBe('system:delivery');
      const detail = paused[0]!.detail;
      expect(detail).toMatchObject({
        reason: expect.stringMatching(/TLS/),
        hint: expect.stringMatching(/tls\.ca_file/),
        message_id: sent.message_id,
        waiting: 1,
      });

      // Paused means no more handshakes: the server sees no new connection while the poller keeps running.
      const tcp = tls.state.tcp;
      await holdsFor(() => tls.state.tcp === tcp && rows(db)[0]!.status === 'queued', 800, 'no connection while paused');
    } finally {
      await proc.close();
    }

    // The operator gives the server's certificate as the CA: a changed configuration, so deliveries resume.
    writeFileSync(config, JSON.stringify({ mailboxes: [mailbox({ tls: { ca_file: certFile } })] }));
    const after = await serve({ config, db, home, env: TUNING });
    try {
      await waitFor(() => rows(db)[0]!.status === 'sent', 10_000, 'sent after the CA was configured');
      expect(rows(db)[0]!.attempts).toBe(1);
      expect(stateOf(db, address).delivery_paused_at).toBeNull();
      expect(auditOf(db, 'mailbox.resumed')).toMatchObject([{ actor: 'system:config', mailbox: address }]);
      expect(tls.state.accepted).toEqual([header]);
      await holdsFor(() => tls.state.accepted.length === 1, 500, 'delivered exactly once');
    } finally {
      await after.close();
    }
  });
});

describe('the breaker', () => {
  let fake: FakeSmtp;
  beforeAll(async () => {
    fake = await startFakeSmtp();
    stops.push(() => fake.stop());
  });

  it('holds the whole mailbox after 5 consecutive 4xx, tries nothing during the hold, and resets on a success', async () => {
    const address = 'breaker@corp.example';
    const db = tmp.file('breaker.db');
    const config = tmp.file('breaker.json');
    writeFileSync(config, JSON.stringify({ mailboxes: [smtpMailbox(address, fake, closedPort)] }));
    // A long first retry delay, so the first hold (one base delay) is a window worth watching.
    const env = { ...TUNING, MAILGATE_RETRY_BASE_MS: '3000' };
    fake.script.rcpt = () => ({ do: 'reply', code: 451, message: '4.7.1 greylisted, try again later' });
    const proc = await serve({ config, db, home, env });
    try {
      const send = async (i: number) =>
        ok<{ message_id: string; status: string }>(
          await proc.call('send_email', { mailbox: address, to: `r${i}@dest.example`, subject: `run ${i}`, text: 'x' }),
        );
      // Each send runs a delivery pass before it returns: one refused transaction per message.
      for (let i = 1; i <= 4; i++) {
        await send(i);
        await waitFor(() => stateOf(db, address).delivery_failures === i, 5000, `failure ${i} counted`);
        expect(stateOf(db, address).delivery_held_until).toBeNull();
      }
      await send(5);
      await waitFor(() => stateOf(db, address).delivery_held_until !== null, 5000, 'the breaker to open');
      const held = stateOf(db, address);
      expect(held.delivery_failures).toBe(5);
      expect(held.delivery_held_until!).toBeGreaterThan(Date.now() + 1000);
      expect(rows(db).map((r) => [r.status, r.attempts])).toEqual(Array.from({ length: 5 }, () => ['queued', 1]));
      expect(proc.stderr()).toMatch(/mailbox deliveries held back after repeated transient failures/);
      const list = await runCli(['mailbox', 'list', '--config', config, '--db', db, '--json'], { home, env });
      expect(JSON.parse(list.stdout).mailboxes[0].deliveries).toMatch(/^held until .*repeated 4xx/);

      // The hold covers the first message's own retry time: without the breaker it would go then.
      const firstRetry = readDb(db, (c) => c.prepare('SELECT min(next_attempt_at) FROM messages').pluck().get() as number);
      expect(firstRetry).toBeLessThan(held.delivery_held_until!);
      // A new message is held too: its send's delivery pass claims nothing.
      const sixth = await send(6);
      expect(sixth.status).toBe('queued');
      const connections = fake.connections();
      const mailFroms = fake.mailFroms.length;
      await holdsFor(
        () => fake.connections() === connections && fake.mailFroms.length === mailFroms,
        held.delivery_held_until! - Date.now() - 300,
        'no connection to the server while the mailbox is held',
      );
      expect(rows(db).every((r) => r.status === 'queued')).toBe(true);

      // The server recovers: the first success resets the breaker and the queue drains.
      fake.script.rcpt = () => ({ do: 'accept' });
      await waitFor(() => rows(db).every((r) => r.status === 'sent'), 15_000, 'all six sent after the hold');
      expect(stateOf(db, address)).toMatchObject({ delivery_failures: 0, delivery_held_until: null, delivery_paused_at: null });
      for (const r of rows(db)) expect(fake.copies(r.message_id_header)).toBe(1);

      // Reset means counting starts over: one more 4xx is a single failure, not a hold.
      fake.script.rcpt = () => ({ do: 'reply', code: 451, message: '4.3.0 try later' });
      await send(7);
      await waitFor(() => stateOf(db, address).delivery_failures === 1, 5000, 'the fresh failure counted');
      expect(stateOf(db, address).delivery_held_until).toBeNull();
    } finally {
      await proc.close();
    }
  });
});
