/**
 * A private PostgreSQL cluster on 127.0.0.1 for tests, one per test file, a fresh database per test.
 *
 *   import { requirePostgresOrSkip, startPostgres, type Postgres } from '../helpers/postgres.js';
 *
 *   describe.skipIf(!requirePostgresOrSkip())('postgres', () => {
 *     let pgc: Postgres;
 *     beforeAll(async () => { pgc = await startPostgres(); });
 *     afterAll(async () => { await pgc?.stop(); });
 *     it('...', async () => {
 *       const url = await pgc.freshDatabase();   // postgres://mailgate:PASSWORD@127.0.0.1:PORT/mg_N, empty
 *     });
 *   });
 *
 * initdb runs into a /tmp/mgpg-XXXXXX directory that stop() removes, with its own port (picked free) and socket
 * directory. Logins over TCP need the password (scram-sha-256), so every test exercises password handling; the
 * unix socket trusts. fsync and synchronous commit are off: the data is thrown away. PostgreSQL refuses to run as
 * root, so under root the server runs as `postgres` (or `nobody`). Start ~1 s, stop ~0.1 s (immediate: no
 * checkpoint). A watchdog stops the server if this process dies without calling stop().
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const LOOPBACK = '127.0.0.1';
const USER = 'mailgate';

export interface Postgres {
  /** A URL for the cluster's `postgres` database (an admin connection), password included. */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** A new empty database; its URL, password included. Tests never share data. */
  freshDatabase(): Promise<string>;
  /** One statement as the superuser, on the `postgres` database. */
  admin(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** The server log so far. */
  logs(): string;
  stop(): Promise<void>;
}

/** The newest Debian PostgreSQL bin directory, or the one holding initdb on PATH. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v)) : [];
  const dirs = [...versions.sort((a, b) => Number(b) - Number(a)).map((v) => join(root, v, 'bin')), ...(process.env.PATH ?? '').split(':')];
  return dirs.find((d) => d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')) && existsSync(join(d, 'postgres')));
}

/** Under root, the unprivileged account the server runs as. */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const rows = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'));
  const row = rows.find((r) => r[0] === 'postgres') ?? rows.find((r) => r[0] === 'nobody');
  return row ? { name: row[0]!, uid: Number(row[2]), gid: Number(row[3]) } : undefined;
}

function postgresAvailable(): { ok: true } | { ok: false; missing: string[] } {
  const missing: string[] = [];
  if (!binDir()) missing.push('postgresql (initdb, pg_ctl and postgres under /usr/lib/postgresql/*/bin or on PATH)');
  if (process.getuid?.() === 0 && !existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) missing.push('runuser (util-linux)');
  if (process.getuid?.() === 0 && !serverUser()) missing.push("a 'postgres' or 'nobody' user to run the server as (PostgreSQL refuses root)");
  return missing.length === 0 ? { ok: true } : { ok: false, missing };
}

/**
 * True when a cluster can be started. Otherwise prints a loud warning to stderr and returns false, for
 * describe.skipIf(!requirePostgresOrSkip()); with CI set and MAILGATE_ALLOW_SKIP unset it throws instead.
 */
export function requirePostgresOrSkip(): boolean {
  const a = postgresAvailable();
  if (a.ok) return true;
  const bar = '!'.repeat(100);
  const text = [
    '',
    bar,
    '!! SKIPPING the PostgreSQL tests (a private cluster on 127.0.0.1). Missing:',
    ...a.missing.map((m) => `!!   - ${m}`),
    '!! To install on Debian, as root (the distribution cluster stays stopped):',
    "!!   printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && apt-get update",
    '!!   DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql',
    bar,
    '',
  ].join('\n');
  if (process.env.CI && !process.env.MAILGATE_ALLOW_SKIP) throw new Error(`CI may not skip the PostgreSQL tests (MAILGATE_ALLOW_SKIP=1 allows it):${text}`);
  process.stderr.write(text);
  return false;
}

export async function startPostgres(): Promise<Postgres> {
  const a = postgresAvailable();
  if (!a.ok) throw new Error(`cannot start PostgreSQL, missing: ${a.missing.join('; ')}`);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce();
    } catch (e) {
      // The free port is probed and released, so a parallel test file may take it in between: pick again.
      if (attempt >= 3 || !/could not bind|address already in use|could not create any TCP/i.test(String(e))) throw e;
    }
  }
}

async function startOnce(): Promise<Postgres> {
  const bin = binDir()!;
  const owner = serverUser();
  const dir = mkdtempSync('/tmp/mgpg-'); // short: the socket path must stay under ~107 bytes
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const as = (cmd: string, args: string[]) => (owner ? run('runuser', ['-u', owner.name, '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args));
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (owner) chownSync(pwfile, owner.uid, owner.gid);
  const logs = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  let watchdog: ChildProcess | undefined;
  let adminPool: pg.Pool | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await adminPool?.end().catch(() => undefined);
    try {
      if (existsSync(join(data, 'postmaster.pid'))) await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      watchdog?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  };
  try {
    await as('initdb', [
      '-D',
      data,
      '-U',
      USER,
      `--pwfile=${pwfile}`,
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C.UTF-8', // present on every Debian; the schema's own collation is C anyway
      '--no-sync',
    ]);
    rmSync(pwfile);
    const port = await freePort();
    appendFileSync(
      join(data, 'postgresql.conf'),
      [
        '# test/helpers/postgres.ts',
        `listen_addresses = '${LOOPBACK}'`,
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'max_connections = 200',
        'shared_buffers = 32MB',
        "deadlock_timeout = '100ms'", // the deadlock tests wait this long
        '',
      ].join('\n'),
    );
    await as('pg_ctl', ['-D', data, '-l', logFile, '-W', 'start']);
    watchdog = startWatchdog(dir, owner?.name, join(bin, 'pg_ctl'));
    const url = `postgres://${USER}:${encodeURIComponent(password)}@${LOOPBACK}:${port}/postgres`;
    await waitForServer(url, logs);
    adminPool = new pg.Pool({ connectionString: url, max: 2 });
    adminPool.on('error', () => undefined);
    const admin = adminPool;
    let n = 0;
    return {
      url,
      host: LOOPBACK,
      port,
      user: USER,
      password,
      async freshDatabase() {
        const name = `mg_${++n}_${randomBytes(3).toString('hex')}`;
        await admin.query(`CREATE DATABASE ${name}`);
        return `postgres://${USER}:${encodeURIComponent(password)}@${LOOPBACK}:${port}/${name}`;
      },
      admin: (sql, params) => admin.query(sql, params),
      logs,
      stop,
    };
  } catch (e) {
    const log = logs();
    await stop().catch(() => undefined);
    throw new Error(`PostgreSQL did not start: ${e instanceof Error ? e.message : String(e)}\n${log}`);
  }
}

/** Polls a real login (TCP, password) until the server accepts one: the readiness that matters to the tests. */
async function waitForServer(url: string, logs: () => string, timeoutMs = 20_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (e) {
      if (/could not bind|could not create any TCP/i.test(logs())) throw new Error(`address already in use: ${logs()}`);
      if (Date.now() > deadline) throw new Error(`PostgreSQL not ready after ${timeoutMs} ms: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 25));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, LOOPBACK, resolve));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * A detached shell that outlives this process: when its stdin, a pipe from us, reaches EOF (we exited in any
 * way; vitest ends workers with SIGTERM, which skips afterAll) it stops the server and removes the directory.
 */
const WATCHDOG = `while read -r _; do :; done
if [ -n "$2" ]; then runuser -u "$2" -- "$3" -D "$1/data" -m immediate stop; else "$3" -D "$1/data" -m immediate stop; fi
rm -rf "$1"`;

function startWatchdog(dir: string, user: string | undefined, pgCtl: string): ChildProcess {
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'mailgate-pg-watchdog', dir, user ?? '', pgCtl], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  child.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as Socket).unref();
  return child;
}
