/**
 * Private Dovecot (IMAP + LMTP) and Postfix (submission) on 127.0.0.1 for tests, one set per call.
 *
 *   import { requireMailServersOrSkip, startMailServers, type MailServers } from '../helpers/mail-servers.js';
 *
 *   describe.skipIf(!requireMailServersOrSkip())('imap', () => {
 *     let mail: MailServers;
 *     beforeAll(async () => { mail = await startMailServers({ users: ['alice', 'bob'] }); });
 *     afterAll(async () => { await mail?.stop(); });
 *     it('...', async () => {
 *       const [alice] = mail.users;                     // { address, user, password }; user (the login) = address
 *       await mail.deliver(rawMessage, alice.address);  // into alice's INBOX over LMTP; resolves once stored
 *       const carol = await mail.addUser('carol');      // a fresh mailbox, usable at once
 *       // IMAP (no TLS, plaintext login): mail.imap; SMTP submission (AUTH required, no TLS): mail.smtp
 *     });
 *   });
 *
 * Everything (config, Maildirs, Postfix queue, sockets, logs) lives in one /tmp/mg-XXXXXX directory that
 * stop() removes, and ports are picked free at start, so test files can run side by side. Nothing leaves the
 * machine: RCPT TO outside the test domain is refused ("Relay access denied") even after AUTH, master.cf has
 * no smtp client, and every non-local transport is `error:`. Start ~0.5 s, stop ~50 ms (SIGKILL: the data is
 * thrown away anyway). Needs root and the Debian packages dovecot-core dovecot-imapd dovecot-lmtpd postfix
 * (install lines in requireMailServersOrSkip()); the config choices are explained where they are made.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';

const run = promisify(execFile);
const LOOPBACK = '127.0.0.1' as const;
const DOMAIN = 'mailgate.test'; // RFC 2606 .test: never resolves, so even a leak could reach no one.
const MARKER = '.mailgate-harness';
const REQUIRED: [file: string, pkg: string][] = [
  ['/usr/sbin/dovecot', 'dovecot-core'],
  ['/usr/lib/dovecot/imap', 'dovecot-imapd'],
  ['/usr/lib/dovecot/lmtp', 'dovecot-lmtpd'],
  ['/usr/sbin/postfix', 'postfix'],
  ['/usr/lib/postfix/sbin/master', 'postfix'],
];
/** Another MTA means a real mail setup: installing Postfix would replace it, so we refuse to touch it. */
const CONFLICTS = ['/usr/sbin/exim4', '/usr/sbin/exim', '/usr/lib/sm.bin/sendmail'];

export interface MailUser {
  address: string;
  /** IMAP and SMTP AUTH login (the same as address). */
  user: string;
  password: string;
}

export interface MailServers {
  imap: { host: typeof LOOPBACK; port: number };
  /** Postfix submission: AUTH PLAIN/LOGIN required, no TLS; RCPT outside `domain` refused. */
  smtp: { host: typeof LOOPBACK; port: number };
  /** Dovecot LMTP (what deliver() uses). */
  lmtp: { host: typeof LOOPBACK; port: number };
  domain: string;
  /** The instance directory, /tmp/mg-XXXXXX. */
  dir: string;
  /** All users, including those added later. */
  users: MailUser[];
  addUser(localPart: string): Promise<MailUser>;
  /** Stores a raw RFC 5322 message in `to`'s INBOX over LMTP; resolves once Dovecot has written it. */
  deliver(raw: string | Buffer, to: string, from?: string): Promise<void>;
  /** A user's Maildir (cur/ new/ tmp/, folders as .Name/). */
  maildir(userOrAddress: string): string;
  /** Live pids of this instance's daemons; [] after stop(). */
  processes(): number[];
  /** Dovecot's and Postfix's logs so far (still there after stop(), for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/** Whether this machine can run the servers; `missing` names packages to install or what else is wrong. */
export function mailServersAvailable(): { ok: true } | { ok: false; missing: string[] } {
  const missing = [...new Set(REQUIRED.filter(([file]) => !existsSync(file)).map(([, pkg]) => pkg))];
  if (process.getuid?.() !== 0) missing.push('root (Postfix master must be started by uid 0)');
  for (const f of CONFLICTS) if (existsSync(f)) missing.push(`no other MTA (found ${f}: exim/sendmail is installed, Postfix would replace it)`);
  return missing.length === 0 ? { ok: true } : { ok: false, missing };
}

/**
 * True when the servers can run. Otherwise prints a loud warning to stderr and returns false, for
 * describe.skipIf(!requireMailServersOrSkip()); with CI set and MAILGATE_ALLOW_SKIP unset it throws instead.
 */
export function requireMailServersOrSkip(): boolean {
  const a = mailServersAvailable();
  if (a.ok) return true;
  const bar = '!'.repeat(100);
  const text = [
    '',
    bar,
    '!! SKIPPING the real mail server tests (private Dovecot + Postfix on 127.0.0.1). Missing:',
    ...a.missing.map((m) => `!!   - ${m}`),
    '!! To install on Debian, as root (the distribution services stay stopped):',
    "!!   printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && apt-get update",
    "!!   echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections",
    '!!   DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-core dovecot-imapd dovecot-lmtpd postfix',
    bar,
    '',
  ].join('\n');
  if (process.env.CI && !process.env.MAILGATE_ALLOW_SKIP) throw new Error(`CI may not skip the mail server tests (MAILGATE_ALLOW_SKIP=1 allows it):${text}`);
  process.stderr.write(text);
  return false;
}

/** `dovecotAuth`: more SASL mechanisms and a passdb block tried before the users' passwords (test/helpers/oauth2-server.ts). */
export async function startMailServers(opts: { users?: string[]; dovecotAuth?: DovecotAuth } = {}): Promise<MailServers> {
  const a = mailServersAvailable();
  if (!a.ok) throw new Error(`cannot start the mail servers, missing: ${a.missing.join('; ')}`);
  reapStale();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts.users ?? ['alice', 'bob'], opts.dovecotAuth);
    } catch (e) {
      // Free ports are probed and released, so a parallel test file may take one in between: pick again.
      if (attempt >= 3 || !/address already in use/i.test(String(e))) throw e;
    }
  }
}

type DovecotAuth = { mechanisms: string[]; passdb: string };

async function startOnce(localParts: string[], auth?: DovecotAuth): Promise<MailServers> {
  const dir = mkdtempSync('/tmp/mg-'); // short: unix socket paths must stay under ~107 bytes
  const watchdog = startWatchdog(dir);
  const paths = { users: join(dir, 'users'), mail: join(dir, 'mail'), log: join(dir, 'log'), pf: join(dir, 'postfix') };
  const vmailbox = join(paths.pf, 'vmailbox');
  const users: MailUser[] = [];
  let mapVersion = 0;
  let mapQueue: Promise<void> = Promise.resolve();
  // Postfix's recipient table, so RCPT TO an unknown local user gets 550 at once; one postmap at a time.
  const writeRecipients = (): Promise<void> =>
    (mapQueue = mapQueue
      .catch(() => undefined)
      .then(async () => {
        writeFileSync(vmailbox, users.map((u) => `${u.address} OK\n`).join(''));
        await run('/usr/sbin/postmap', ['-c', paths.pf, `hash:${vmailbox}`]);
        // smtpd restarts before its next client when the .db's mtime changed: give each version its own second.
        const t = Date.now() / 1000 - 3600 + ++mapVersion;
        utimesSync(`${vmailbox}.db`, t, t);
      }));
  const makeUser = (localPart: string): MailUser => {
    if (!/^[a-z0-9][a-z0-9._+-]*$/i.test(localPart)) throw new Error(`bad local part '${localPart}'`);
    const address = `${localPart}@${DOMAIN}`.toLowerCase();
    if (users.some((u) => u.address === address)) throw new Error(`user ${address} exists already`);
    const u = { address, user: address, password: randomBytes(9).toString('base64url') };
    // A file per user: Dovecot rereads a changed passwd-file at most once a second, but reads a new one at once.
    writeFileSync(join(paths.users, u.user), `${u.user}:{PLAIN}${u.password}::::::\n`);
    users.push(u);
    return u;
  };
  let stopped = false;
  let finalLogs = '';
  const logs = (): string => {
    const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '');
    return `--- dovecot\n${read(join(paths.log, 'dovecot.log'))}--- postfix\n${read(join(paths.log, 'postfix.log'))}`;
  };
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    finalLogs = logs();
    try {
      await stopInstance(dir);
    } finally {
      watchdog.kill('SIGKILL');
      watchdog.stdin?.destroy();
    }
  };

  let ports: number[] = [];
  try {
    writeFileSync(join(dir, MARKER), JSON.stringify({ owner: process.pid, ownerStart: procStat(process.pid)[19] }));
    chmodSync(dir, 0o755); // mkdtemp's 0700 would lock out dovenull, postfix and nobody
    ports = await freePorts(3);
    const ids = systemIds();
    for (const d of [paths.mail, paths.log, paths.pf, join(dir, 'state'), join(dir, 'spool')]) mkdirSync(d, { mode: 0o755 });
    chownSync(paths.mail, ids.mailUid, ids.mailGid);
    chmodSync(paths.mail, 0o700);
    mkdirSync(paths.users, { mode: 0o750 });
    chownSync(paths.users, 0, ids.dovecotGid); // Dovecot's auth process runs as user dovecot
    for (const p of localParts) makeUser(p);
    writeFileSync(join(dir, 'dovecot.conf'), dovecotConf(dir, paths, ids, ports[0]!, ports[1]!, auth));
    writeFileSync(join(paths.pf, 'main.cf'), postfixMain(dir, paths.log, vmailbox));
    writeFileSync(join(paths.pf, 'master.cf'), postfixMaster(ports[2]!));
    // Every Postfix command (postmap too) sleeps ~2 s when main.cf changed in the last 2 s: backdate it.
    const past = Date.now() / 1000 - 7200;
    for (const f of ['main.cf', 'master.cf']) utimesSync(join(paths.pf, f), past, past);
    await writeRecipients();
    const started = await Promise.allSettled([
      // settled both, so stop() cannot race a half-started daemon
      daemonize('/usr/sbin/dovecot', ['-c', join(dir, 'dovecot.conf')], join(paths.log, 'dovecot.start')),
      daemonize('/usr/sbin/postfix', ['-c', paths.pf, 'start'], join(paths.log, 'postfix.start')),
    ]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    await Promise.all(ports.map((p) => waitForGreeting(p)));
    // Postfix listens with SO_REUSEPORT: a port that another instance took meanwhile is shared, not refused.
    if (listeners(ports[2]!) > 1) throw new Error(`127.0.0.1:${ports[2]}: address already in use by another Postfix`);
  } catch (e) {
    await stop();
    throw new Error(`mail servers did not start: ${e instanceof Error ? e.message : String(e)}\n${finalLogs}`);
  }

  const [imapPort, lmtpPort, smtpPort] = ports as [number, number, number];
  return {
    imap: { host: LOOPBACK, port: imapPort },
    smtp: { host: LOOPBACK, port: smtpPort },
    lmtp: { host: LOOPBACK, port: lmtpPort },
    domain: DOMAIN,
    dir,
    users,
    async addUser(localPart) {
      const u = makeUser(localPart);
      await writeRecipients();
      return u;
    },
    async deliver(raw, to, from = `sender@${DOMAIN}`) {
      const t = nodemailer.createTransport({ host: LOOPBACK, port: lmtpPort, lmtp: true, secure: false, ignoreTLS: true });
      try {
        await t.sendMail({ envelope: { from, to: [to] }, raw });
      } finally {
        t.close();
      }
    },
    maildir: (u) => join(paths.mail, (u.includes('@') ? u : `${u}@${DOMAIN}`).toLowerCase(), 'Maildir'),
    processes: () => instanceProcesses(dir),
    logs: () => (stopped ? finalLogs : logs()),
    stop,
  };
}

function dovecotConf(
  dir: string,
  p: { users: string; mail: string; log: string },
  ids: ReturnType<typeof systemIds>,
  imapPort: number,
  lmtpPort: number,
  auth?: DovecotAuth,
): string {
  const box = (name: string): string => `  mailbox ${name} {\n    special_use = \\${name}\n    auto = subscribe\n  }`;
  return `# Written by test/helpers/mail-servers.ts. Loopback only, hence plaintext logins without TLS.
instance_name = ${dir.slice(5)}
base_dir = ${dir}/run
state_dir = ${dir}/state
listen = ${LOOPBACK}
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login${auth ? ` ${auth.mechanisms.join(' ')}` : ''}
auth_verbose = yes
# A failed login is answered on the auth process's next 0.5 s tick instead of after 2 s.
auth_failure_delay = 0
log_path = ${p.log}/dovecot.log
mail_location = maildir:~/Maildir
mail_fsync = never
first_valid_uid = ${Math.min(ids.mailUid, 500)}
${auth?.passdb ?? ''}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu ${p.users}/%Lu
}
userdb {
  driver = passwd-file
  args = username_format=%Lu ${p.users}/%Lu
  override_fields = uid=${ids.mailUid} gid=${ids.mailGid} home=${p.mail}/%Lu
}
namespace inbox {
  inbox = yes
  separator = /
${['Drafts', 'Sent', 'Trash', 'Archive', 'Junk'].map(box).join('\n')}
}
protocol imap {
  mail_max_userip_connections = 100
}
service imap-login {
  inet_listener imap {
    address = ${LOOPBACK}
    port = ${imapPort}
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = ${LOOPBACK}
    port = ${lmtpPort}
  }
  unix_listener lmtp {
    mode = 0600
    user = postfix
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0600
    user = postfix
  }
}
# Otherwise each failed login from 127.0.0.1 delays the following ones (2, 4, 8... s), across tests.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
}

function postfixMain(dir: string, logDir: string, vmailbox: string): string {
  const off = 'error:5.7.1 outbound mail is disabled in the mailgate test harness';
  return `# Written by test/helpers/mail-servers.ts.
compatibility_level = 3.6
queue_directory = ${dir}/spool
data_directory = ${dir}/pfdata
maillog_file = ${logDir}/postfix.log
maillog_file_prefixes = ${dir}
inet_interfaces = ${LOOPBACK}
inet_protocols = ipv4
mynetworks = ${LOOPBACK}/32
myhostname = mx.${DOMAIN}
myorigin = ${DOMAIN}
mydestination =
relayhost =
relay_domains =
virtual_mailbox_domains = ${DOMAIN}
virtual_mailbox_maps = hash:${vmailbox}
virtual_transport = lmtp:unix:${dir}/run/lmtp
# Nothing but ${DOMAIN} has a way out, and master.cf has no smtp client to take one.
default_transport = ${off}
relay_transport = ${off}
local_transport = ${off}
# The only smtpd is the submission listener: AUTH required, and even then nothing is relayed.
smtpd_sasl_type = dovecot
smtpd_sasl_path = ${dir}/run/auth-postfix
smtpd_sasl_auth_enable = yes
smtpd_client_restrictions = permit_sasl_authenticated, reject
smtpd_relay_restrictions = reject_unauth_destination
smtpd_tls_security_level = none
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
smtpd_client_connection_count_limit = 0
`;
}

/** From scratch: chroot off everywhere (Debian's default chroots, which a private directory breaks). */
function postfixMaster(smtpPort: number): string {
  return `# Written by test/helpers/mail-servers.ts.
${LOOPBACK}:${smtpPort} inet n - n - - smtpd -o syslog_name=postfix/submission
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`;
}

/**
 * Mail belongs to `nobody`: Dovecot refuses root for mail processes, `nobody` exists on every Debian machine,
 * and a dedicated user would mean editing /etc/passwd, a global change that parallel test files would race on.
 */
function systemIds(): { mailUid: number; mailGid: number; dovecotGid: number } {
  const passwd = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'));
  const find = (name: string): string[] => {
    const row = passwd.find((r) => r[0] === name);
    if (!row) throw new Error(`system user '${name}' is missing (reinstall dovecot-core and postfix)`);
    return row;
  };
  ['postfix', 'dovenull'].forEach(find);
  const nobody = find('nobody');
  return { mailUid: Number(nobody[2]), mailGid: Number(nobody[3]), dovecotGid: Number(find('dovecot')[3]) };
}

/** Runs a command that forks a daemon. Output goes to a file: a pipe stays open as long as the daemon lives. */
async function daemonize(cmd: string, args: string[], outFile: string): Promise<void> {
  const fd = openSync(outFile, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${readFileSync(outFile, 'utf8').trim()}`);
  } finally {
    closeSync(fd);
  }
}

/** All held open at once, so the n ports differ; released before the daemons bind them. */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    await Promise.all(servers.map((s) => new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, LOOPBACK, resolve))));
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => (s.listening ? s.close(r) : r(undefined)))));
  }
}

/** IMAP, LMTP and SMTP servers all speak first: a greeting means the daemon is up and serving. */
async function waitForGreeting(port: number, timeoutMs = 10_000): Promise<void> {
  const greets = (): Promise<boolean> =>
    new Promise((resolve) => {
      const s = connect(port, LOOPBACK).setTimeout(2000, () => s.destroy());
      s.once('data', () => {
        resolve(true);
        s.destroy();
      });
      s.once('close', () => resolve(false)).on('error', () => undefined); // 'close' follows an error
    });
  for (const deadline = Date.now() + timeoutMs; !(await greets()); await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error(`nothing greets on ${LOOPBACK}:${port}`);
  }
}

function listeners(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const rows = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/));
  return rows.filter((f) => f[1] === local && f[3] === '0A').length; // 0A: LISTEN
}

/** /proc/PID/stat fields after the command name: [3] is the session id, [19] the start time; [] if gone. */
function procStat(pid: number | string): string[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return [];
  }
}

const MAIL_EXE = /^\/usr\/(sbin\/dovecot$|lib\/dovecot\/|lib\/postfix\/)/;

/**
 * The instance's processes, found afresh in /proc rather than from pid files (written a moment after `start`
 * returns, and gone with a crash): Dovecot and Postfix binaries whose working directory lies in `dir`
 * (base_dir, queue_directory, a Maildir), and everything in their sessions (both masters call setsid()).
 */
function instanceProcesses(dir: string): number[] {
  const procs: { pid: number; sid: string; cwd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!MAIL_EXE.test(readlinkSync(`/proc/${name}/exe`))) continue;
      procs.push({ pid: Number(name), sid: procStat(name)[3] ?? '', cwd: readlinkSync(`/proc/${name}/cwd`) });
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  const sessions = new Set(procs.filter((p) => p.cwd.startsWith(`${dir}/`)).map((p) => p.sid));
  return procs.filter((p) => sessions.has(p.sid)).map((p) => p.pid);
}

/** SIGKILL, not a clean stop (Dovecot's takes ~2.5 s): the data is thrown away anyway. */
function killInstance(dir: string): number[] {
  const pids = instanceProcesses(dir);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function stopInstance(dir: string): Promise<void> {
  for (let i = 0; i < 100 && killInstance(dir).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  const left = instanceProcesses(dir);
  rmSync(dir, { recursive: true, force: true });
  if (left.length > 0) throw new Error(`mail server processes survived SIGKILL: ${left.join(' ')}`);
}

/**
 * A detached shell that outlives this process: when its stdin, a pipe from us, reaches EOF (we exited in any
 * way, SIGKILL included) it kills the instance's process groups and removes the directory. A process.on('exit')
 * hook would not do: vitest ends its workers with SIGTERM. stop() cleans up itself, then kills the watchdog.
 */
const WATCHDOG = `while read -r _; do :; done
for p in $(ls -l /proc/[0-9]*/cwd 2>/dev/null | sed -n "s#^.* /proc/\\([0-9]*\\)/cwd -> $1/.*#\\1#p"); do
  case "$(readlink /proc/$p/exe)" in /usr/sbin/dovecot|/usr/lib/dovecot/*|/usr/lib/postfix/*) ;; *) continue ;; esac
  read -r _ _ _ _ pgid _ < /proc/$p/stat && kill -s KILL -- "-$pgid" 2>/dev/null
done
rm -rf "$1"`;

function startWatchdog(dir: string): ChildProcess {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'mailgate-watchdog', dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as Socket).unref(); // the open pipe must not keep this process alive
  return child;
}

/** Leftovers of a test process whose watchdog died with it (say, a kill of everything): owner gone, reap. */
function reapStale(): void {
  for (const name of readdirSync('/tmp')) {
    if (!name.startsWith('mg-')) continue;
    const dir = join('/tmp', name);
    try {
      const m = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as { owner: number; ownerStart: string };
      if (procStat(m.owner)[19] === m.ownerStart) continue; // its owner is alive
      killInstance(dir);
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours, or still being created
    }
  }
}
