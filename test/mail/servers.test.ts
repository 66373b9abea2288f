/** Smoke test of the private Dovecot + Postfix harness (test/helpers/mail-servers.ts) and the TCP proxy. */
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function imap(mail: MailServers, u: MailUser, pass = u.password, port = mail.imap.port): ImapFlow {
  return new ImapFlow({ host: mail.imap.host, port, secure: false, auth: { user: u.user, pass }, logger: false });
}

function submission(mail: MailServers, u: MailUser, pass = u.password) {
  return nodemailer.createTransport({ host: mail.smtp.host, port: mail.smtp.port, secure: false, ignoreTLS: true, auth: { user: u.user, pass } });
}

async function waitForMessages(client: ImapFlow, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await client.status('INBOX', { messages: true });
    if (status && (status.messages ?? 0) >= count) return;
    if (Date.now() > deadline) throw new Error(`INBOX did not reach ${count} messages in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Remote IPs of the TCP/UDP sockets the given processes hold (listening sockets excluded). */
function remoteAddresses(pids: number[]): string[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      }
    } catch {
      // exited meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
    for (const line of readFileSync(`/proc/net/${table}`, 'utf8').trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (!inodes.has(f[9]!)) continue;
      const hex = f[2]!.split(':')[0]!;
      if (/^0+$/.test(hex)) continue; // listening / unconnected
      const v4 = hex.length === 8 ? hex : hex.startsWith('0000000000000000FFFF0000') ? hex.slice(24) : '';
      out.push(
        v4
          ? v4
              .match(/../g)!
              .map((b) => parseInt(b, 16))
              .reverse()
              .join('.')
          : `ipv6:${hex}`,
      );
    }
  }
  return out;
}

describe.skipIf(!requireMailServersOrSkip())('private Dovecot + Postfix on 127.0.0.1', () => {
  let mail: MailServers;
  beforeAll(async () => {
    mail = await startMailServers({ users: ['alice', 'bob'] });
  });
  afterAll(async () => {
    await mail?.stop();
  });

  it('submits with AUTH as alice and bob reads it over IMAP', async () => {
    const [alice, bob] = mail.users as [MailUser, MailUser];
    const info = await submission(mail, alice).sendMail({ from: alice.address, to: bob.address, subject: 'smoke', text: 'hello bob' });
    expect(info.accepted).toEqual([bob.address]);
    const client = imap(mail, bob);
    await client.connect();
    try {
      await waitForMessages(client, 1);
      const lock = await client.getMailboxLock('INBOX');
      try {
        const msg = await client.fetchOne('*', { envelope: true });
        // biome-ignore lint/complexity/useOptionalChain: msg is false | FetchMessageObject, and ?. does not narrow false
        expect(msg && msg.envelope).toMatchObject({
          subject: 'smoke',
          messageId: info.messageId,
          from: [{ address: alice.address }],
          to: [{ address: bob.address }],
        });
      } finally {
        lock.release();
      }
      expect(existsSync(mail.maildir(bob.address))).toBe(true);
    } finally {
      await client.logout();
    }
  });

  it('has the special-use folders and the extensions the IMAP code relies on', async () => {
    const client = imap(mail, mail.users[0]!);
    await client.connect();
    try {
      const uses = (await client.list())
        .map((b) => b.specialUse)
        .filter((u) => u && u !== '\\Inbox')
        .sort();
      expect(uses).toEqual(['\\Archive', '\\Drafts', '\\Junk', '\\Sent', '\\Trash']);
      for (const cap of ['IDLE', 'CONDSTORE', 'QRESYNC', 'UIDPLUS', 'MOVE', 'SPECIAL-USE']) expect(client.capabilities.has(cap), cap).toBe(true);
    } finally {
      await client.logout();
    }
  });

  it('deliver() and addUser() work on the running servers', async () => {
    const carol = await mail.addUser('carol');
    await mail.deliver(`From: x@example.com\r\nTo: ${carol.address}\r\nSubject: seeded\r\n\r\nbody\r\n`, carol.address, 'x@example.com');
    await submission(mail, carol).sendMail({ from: carol.address, to: carol.address, subject: 'to self', text: '.' });
    const client = imap(mail, carol);
    await client.connect();
    try {
      await waitForMessages(client, 2);
    } finally {
      await client.logout();
    }
    await expect(submission(mail, carol).sendMail({ from: carol.address, to: `nobody@${mail.domain}`, text: '.' })).rejects.toThrow(/550|unknown/i);
  });

  it('never relays to other domains, even after AUTH, and talks to nothing but 127.0.0.1', async () => {
    const [alice] = mail.users as [MailUser];
    await expect(submission(mail, alice).sendMail({ from: alice.address, to: 'someone@example.com', text: 'must not leave' })).rejects.toThrow(
      /Relay access denied/,
    );
    const anon = nodemailer.createTransport({ host: mail.smtp.host, port: mail.smtp.port, secure: false, ignoreTLS: true });
    await expect(anon.sendMail({ from: 'x@example.com', to: alice.address, text: 'no auth' })).rejects.toThrow(/5\d\d/);
    expect(readFileSync(`${mail.dir}/postfix/master.cf`, 'utf8')).not.toMatch(/^(smtp|relay)\s+unix/m);
    expect(readdirSync(`${mail.dir}/spool/deferred`)).toEqual([]);
    expect(remoteAddresses(mail.processes()).filter((ip) => ip !== '127.0.0.1')).toEqual([]);
    const relays = mail.logs().match(/ relay=\S+/g) ?? [];
    expect(relays.length).toBeGreaterThan(0); // the deliveries of the tests above
    expect(relays.filter((r) => !r.includes(`[${mail.dir}/run/lmtp]`))).toEqual([]);
    expect(mail.logs()).not.toMatch(/connect to /);
  });

  it('refuses a wrong password on IMAP and SMTP', async () => {
    const [alice] = mail.users as [MailUser];
    await expect(imap(mail, alice, 'wrong').connect()).rejects.toMatchObject({ authenticationFailed: true });
    await expect(submission(mail, alice, 'wrong').verify()).rejects.toMatchObject({ code: 'EAUTH' });
  });

  it('tcp proxy: passes through, blackholes silently, resumes, resets', async () => {
    const proxy = await startTcpProxy({ port: mail.imap.port });
    const client = imap(mail, mail.users[0]!, undefined, proxy.port);
    client.on('error', () => undefined); // the RST below surfaces as ECONNRESET
    try {
      await client.connect();
      expect(proxy.connections).toBe(1);
      proxy.blackhole();
      const noop = client.noop();
      const late = connect(proxy.port, '127.0.0.1'); // accepted, but not connected upstream until resume()
      const greeting = new Promise<string>((r) => late.once('data', (d) => r(d.toString())));
      // A bounded window for a negative: neither the NOOP's answer nor the greeting may arrive while blackholed.
      const first = await Promise.race([noop.then(() => 'answered'), greeting, sleep(300).then(() => 'silent')]);
      expect(first).toBe('silent');
      expect(client.usable).toBe(true);
      expect(proxy.connections).toBe(2);
      proxy.resume();
      await noop;
      expect(await greeting).toMatch(/^\* OK/);
      late.destroy();
      const closed = new Promise((r) => client.once('close', r));
      proxy.reset();
      await closed;
      expect(proxy.active).toBe(0);
    } finally {
      client.close();
      await proxy.close();
    }
  });

  it('stop() ends every daemon of the instance and removes its directory', async () => {
    expect(mail.processes().length).toBeGreaterThan(2);
    const dir = mail.dir;
    await mail.stop();
    expect(mail.processes()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
