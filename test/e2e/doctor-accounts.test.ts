/**
 * `mailgate doctor` against the private Dovecot and Postfix (plain text on 127.0.0.1), and against the same
 * servers behind a TLS front with a self-signed certificate (implicit TLS, as on 993 and 465): each account
 * mistake of issue 12 gives its fix and exit 1, a correct account passes, and no password is ever printed.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailServers, type MailUser, requireMailServersOrSkip, startMailServers } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli, writeConfig } from './harness.js';
import { unusedPort } from './smtp-harness.js';

const tmp = tempDir('mailgate-e2e-doctor-');
let mail: MailServers;
let user: MailUser;
let certFile = '';
const tlsPort = { imap: 0, smtp: 0 };
const fronts: Server[] = [];
const sockets = new Set<Socket>();

/** A self-signed certificate for 127.0.0.1, so it verifies only when given as tls.ca_file. */
function selfSignedCert(): { key: string; cert: string } {
  const keyFile = tmp.file('key.pem');
  certFile = tmp.file('cert.pem');
  const subj = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-days', '1'];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', ...subj, '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

/** Implicit TLS in front of a plain-text port: what a provider's 993 or 465 looks like to a client. */
async function tlsFront(target: number, pem: { key: string; cert: string }): Promise<number> {
  const server = createServer(pem, (client) => {
    const upstream = connect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  server.on('tlsClientError', () => undefined);
  fronts.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

type Server_ = { port: number; secure: boolean; starttls?: boolean; ca?: boolean; passwordEnv?: string };

function account(name: string, imap: Server_, smtp: Server_): string {
  const side = (s: Server_) => ({
    host: '127.0.0.1',
    port: s.port,
    secure: s.secure,
    ...(s.starttls ? { starttls: true } : {}),
    user: user.user,
    ...(s.passwordEnv ? { password_env: s.passwordEnv } : { password: user.password }),
    ...(s.ca ? { tls: { ca_file: certFile } } : {}),
  });
  return writeConfig(tmp.file(`${name}.json`), { mailboxes: [{ address: user.address, oversight_mode: 'gated_send', imap: side(imap), smtp: side(smtp) }] });
}

async function doctor(config: string, extra: string[] = [], env: Record<string, string> = {}) {
  const r = await runCli(['doctor', '--config', config, '--db', tmp.file('never-created.db'), ...extra], {
    home: tmp.path,
    env,
    timeoutMs: 25_000,
  });
  expect(r.stdout + r.stderr).not.toContain(user.password);
  return r;
}

const lineOf = (out: string, check: string) => out.split('\n').find((l) => l.includes(` ${check} `)) ?? `(no ${check} line in)\n${out}`;

describe.skipIf(!requireMailServersOrSkip())('mailgate doctor against real IMAP and SMTP servers', () => {
  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['doc'] });
    user = mail.users[0]!;
    const pem = selfSignedCert();
    tlsPort.imap = await tlsFront(mail.imap.port, pem);
    tlsPort.smtp = await tlsFront(mail.smtp.port, pem);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(fronts.map((f) => new Promise((r) => f.close(r))));
    await mail?.stop();
    tmp.cleanup();
  });

  it('passes a correct plain-text account and a correct TLS account with its CA, creating no database', async () => {
    const plain = await doctor(account('ok', { port: mail.imap.port, secure: false }, { port: mail.smtp.port, secure: false }));
    expect(plain.code, plain.stdout + plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^✓ config: /m);
    expect(plain.stdout).toMatch(/^✓ database: .*not created yet/m);
    expect(lineOf(plain.stdout, 'imap')).toMatch(/^✓ imap doc@.*connected, no TLS \(plain text\), logged in; special-use folders: .*IDLE yes.*CONDSTORE yes/);
    expect(lineOf(plain.stdout, 'smtp')).toMatch(/^✓ smtp doc@.*logged in/);
    const tls = await doctor(account('tls-ok', { port: tlsPort.imap, secure: true, ca: true }, { port: tlsPort.smtp, secure: true, ca: true }), ['--json']);
    expect(tls.code, tls.stdout + tls.stderr).toBe(0);
    const report = JSON.parse(tls.stdout) as { ok: boolean; checks: { check: string; ok: boolean; detail: string }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.check)).toEqual(['config', 'database', `imap ${user.address}`, `smtp ${user.address}`]);
    expect(report.checks[2]!.detail).toContain('connected, TLS, logged in');
    expect(() => readFileSync(tmp.file('never-created.db'))).toThrow();
  });

  it('secure: false on an implicit-TLS port: set secure: true', async () => {
    const r = await doctor(account('plain-on-tls', { port: tlsPort.imap, secure: false, ca: true }, { port: tlsPort.smtp, secure: false, ca: true }));
    expect(r.code).toBe(1);
    expect(lineOf(r.stdout, 'imap')).toMatch(/^✗ imap .*fix: port \d+ expects TLS from the first byte: set `mailboxes\[0\]\.imap\.secure: true`/);
    expect(lineOf(r.stdout, 'smtp')).toMatch(/^✗ smtp .*fix: port \d+ expects TLS from the first byte: set `mailboxes\[0\]\.smtp\.secure: true`/);
  });

  it('secure: true on a plain-text port: wrong version number, set secure: false', async () => {
    const r = await doctor(account('tls-on-plain', { port: mail.imap.port, secure: true }, { port: mail.smtp.port, secure: true }));
    expect(r.code).toBe(1);
    expect(lineOf(r.stdout, 'imap')).toMatch(/fix: wrong version number: port \d+ speaks plain text, not TLS: set `mailboxes\[0\]\.imap\.secure: false`/);
    expect(lineOf(r.stdout, 'smtp')).toMatch(/fix: wrong version number: port \d+ speaks plain text, not TLS: set `mailboxes\[0\]\.smtp\.secure: false`/);
  });

  it('a self-signed certificate without tls.ca_file: set tls.ca_file', async () => {
    const r = await doctor(account('no-ca', { port: tlsPort.imap, secure: true }, { port: tlsPort.smtp, secure: true }));
    expect(r.code).toBe(1);
    for (const p of ['imap', 'smtp']) {
      expect(lineOf(r.stdout, p)).toContain(`fix: the server's certificate is self-signed (or from an unknown CA): set \`mailboxes[0].${p}.tls.ca_file\``);
    }
  });

  it('a wrong password: check the password variable, and neither password is printed', async () => {
    const wrong = 'Wrong-Secret-42';
    const config = account(
      'bad-pw',
      { port: mail.imap.port, secure: false, passwordEnv: 'DOC_PW' },
      { port: mail.smtp.port, secure: false, passwordEnv: 'DOC_PW' },
    );
    const r = await doctor(config, [], { DOC_PW: wrong });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toContain(wrong);
    for (const p of ['imap', 'smtp']) {
      expect(lineOf(r.stdout, p)).toContain(`fix: authentication failed: check the password variable DOC_PW and \`mailboxes[0].${p}.user\``);
    }
    const json = await doctor(config, ['--json'], { DOC_PW: wrong });
    expect(json.code).toBe(1);
    expect(json.stdout).not.toContain(wrong);
    expect((JSON.parse(json.stdout) as { ok: boolean }).ok).toBe(false);
  });

  it('a closed port: connection refused, nothing listens there', async () => {
    const closed = await unusedPort();
    const r = await doctor(account('closed', { port: closed, secure: true }, { port: closed, secure: false }));
    expect(r.code).toBe(1);
    for (const p of ['imap', 'smtp']) expect(lineOf(r.stdout, p)).toContain(`fix: connection refused: nothing listens on 127.0.0.1:${closed}`);
  });

  it('starttls: true on a server that offers no STARTTLS', async () => {
    const r = await doctor(
      account('no-starttls', { port: mail.imap.port, secure: false, starttls: true }, { port: mail.smtp.port, secure: false, starttls: true }),
    );
    expect(r.code).toBe(1);
    for (const p of ['imap', 'smtp']) expect(lineOf(r.stdout, p)).toMatch(/fix: the server offers no STARTTLS on \d+/);
  });

  it('a config error is reported as a failed check, not a crash', async () => {
    const bad = writeConfig(tmp.file('bad.json'), { mailboxes: [{ address: 'x@example.com', imap: { host: 'h', user: 'u', password_env: 'NOT_SET_DOC' } }] });
    const r = await doctor(bad);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ config: /m);
  });
});
