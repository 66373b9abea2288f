/**
 * From a postgres:// URL and options to a pg pool config, and to the description of the server that error
 * messages use: host, port, database and user, never the password (which only pg's config carries).
 *
 * TLS follows libpq's sslmode (https://www.postgresql.org/docs/current/libpq-ssl.html#LIBPQ-SSL-PROTECTION), not
 * pg's own reading (which takes `require` as verify-full today and plans to change): disable = none; require =
 * encrypted, certificate not checked (checked against sslrootcert when one is given, like verify-ca); verify-ca =
 * chain checked; verify-full = chain and host name checked; no-verify (pg's) = encrypted, nothing checked.
 * allow and prefer fall back to plaintext when TLS fails, which we refuse to do silently: they are an error.
 * sslrootcert, sslcert and sslkey name PEM files. The `ssl` option (node's tls options) is laid over the URL's.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { PoolConfig } from 'pg';
import { MailgateError } from '../../errors.js';

export interface PgOptions {
  /** Connections in this instance's pool (default 10). */
  poolSize?: number;
  /** TLS options laid over what the URL's sslmode/sslrootcert/sslcert/sslkey say; `false` turns TLS off. */
  ssl?: boolean | ConnectionOptions;
  /** How long to wait for a connection (new or from the pool) before STORE_UNREACHABLE (default 10 s). */
  connectTimeoutMs?: number;
}

/** What messages say about the server: never the password. */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

const SSL_PARAMS = ['sslmode', 'ssl', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat'];

export const describeTarget = (t: PgTarget) => `${t.host}:${t.port}, database '${t.database}' as user '${t.user}'`;

export function pgPoolConfig(url: string, opts: PgOptions = {}): { config: PoolConfig; target: PgTarget; password: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Not even the URL's shape goes into the message: it may hold a password.
    throw configError('the database URL is not a valid URL (expected postgres://USER:PASSWORD@HOST:PORT/DATABASE)');
  }
  if (!/^postgres(ql)?:$/i.test(u.protocol)) throw configError(`the database URL's scheme '${u.protocol}' is not postgres:// or postgresql://`);
  // pg falls back to PGPASSWORD; it is masked in messages like the URL's own.
  const password = safeDecode(u.password) || process.env.PGPASSWORD || '';
  const user = safeDecode(u.username) || u.searchParams.get('user') || process.env.PGUSER || 'postgres';
  const target: PgTarget = {
    host: u.searchParams.get('host') || u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: Number(u.searchParams.get('port') || u.port || 5432),
    database: safeDecode(u.pathname.slice(1)) || user,
    user,
  };
  const ssl = tlsOptions(u.searchParams, opts.ssl);
  for (const p of SSL_PARAMS) u.searchParams.delete(p);
  const config: PoolConfig = {
    connectionString: u.toString(),
    application_name: 'mailgate',
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    ssl,
  };
  return { config, target, password };
}

function tlsOptions(params: URLSearchParams, explicit: PgOptions['ssl']): boolean | ConnectionOptions {
  const mode = params.get('sslmode') ?? (params.get('ssl') === 'true' || params.get('ssl') === '1' ? 'verify-full' : undefined);
  if (mode === 'allow' || mode === 'prefer') {
    throw configError(
      `sslmode=${mode} falls back to an unencrypted connection when TLS fails, which mailgate does not do silently: ` +
        'use sslmode=verify-full (encrypted, server checked), require (encrypted) or disable',
    );
  }
  if (mode !== undefined && !['disable', 'require', 'verify-ca', 'verify-full', 'no-verify'].includes(mode)) {
    throw configError(`unknown sslmode '${mode}' in the database URL (disable, require, verify-ca, verify-full or no-verify)`);
  }
  const files: ConnectionOptions = {};
  for (const [param, key] of [
    ['sslrootcert', 'ca'],
    ['sslcert', 'cert'],
    ['sslkey', 'key'],
  ] as const) {
    const path = params.get(param);
    if (path) files[key] = readPem(param, path);
  }
  if (mode === 'disable' || explicit === false) {
    if (explicit && mode === 'disable') throw configError('the database URL says sslmode=disable but TLS options were given: drop one of them');
    return false;
  }
  if (mode === undefined && !explicit && Object.keys(files).length === 0) return false;
  const explicitTls = typeof explicit === 'object' ? explicit : {};
  const hasCa = Boolean(files.ca ?? explicitTls.ca);
  // verify-ca checks the chain but not the name, as libpq does; require checks nothing unless a root CA is given.
  const relaxed: ConnectionOptions = {};
  if (mode === 'verify-ca' || (mode === 'require' && hasCa)) relaxed.checkServerIdentity = () => undefined;
  if (mode === 'no-verify' || (mode === 'require' && !hasCa)) relaxed.rejectUnauthorized = false;
  return { ...files, ...relaxed, ...explicitTls };
}

function readPem(param: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw configError(`cannot read ${param}=${path} from the database URL: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const configError = (message: string) =>
  new MailgateError('CONFIG_INVALID', `${message}; check MAILGATE_DATABASE_URL or the config's database`, { field: 'database' });
