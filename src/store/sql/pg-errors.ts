/**
 * Translates what pg and node's sockets throw into catalogued errors that name the server (host, port, database,
 * user) and the fix. The password is never in them: messages are built from the target alone, and as a last guard
 * any occurrence of the password is masked. Errors not listed here (constraint violations, SQL mistakes) are
 * returned as undefined and travel unchanged, as SQLite's do (the store inspects their codes).
 */
import { MailgateError } from '../../errors.js';
import { describeTarget, type PgTarget } from './pg-config.js';

const WHERE = "MAILGATE_DATABASE_URL or the config's database";

/** SQLSTATEs after which the whole transaction may simply be run again. */
export const isRetryable = (err: unknown) => ['40001', '40P01'].includes(sqlState(err) ?? '');

const sqlState = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
};

/** A socket-level code, also from inside the AggregateError node gives when every address of a name failed. */
function socketCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: { code?: unknown }[] };
  const code = e?.code ?? e?.errors?.[0]?.code;
  return typeof code === 'string' && !/^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function pgError(err: unknown, target: PgTarget, password: string, attempts = 1): MailgateError | undefined {
  if (err instanceof MailgateError) return undefined;
  const server = `the PostgreSQL server at ${describeTarget(target)}`;
  const details = { host: target.host, port: target.port, database: target.database, user: target.user, pg_code: sqlState(err) ?? socketCode(err) ?? null };
  const make = (code: MailgateError['code'], message: string) => new MailgateError(code, mask(message, password), { details });
  const state = sqlState(err);
  const sock = socketCode(err);
  const text = err instanceof Error ? err.message : String(err);

  if (state === '28P01' || state === '28000' || /^SASL: .*password/.test(text)) {
    return make(
      'STORE_AUTH_FAILED',
      `${server} refused the login (wrong password, or no pg_hba.conf entry for this user and host); check the user and password in ${WHERE}`,
    );
  }
  if (state === '3D000') {
    return make(
      'STORE_NO_DATABASE',
      `${server}: the database '${target.database}' does not exist; create it (createdb ${target.database}) or fix the database name in ${WHERE}`,
    );
  }
  if (state === '53300') {
    return make('STORE_BUSY', `${server} has no connection slot free (too many clients); retry shortly, or lower poolSize or raise max_connections`);
  }
  if (state === '40001' || state === '40P01' || state === '55P03') {
    return make('STORE_BUSY', `${server}: the transaction conflicted with another one (deadlock or lock conflict) ${attempts} time(s); retry`);
  }
  if (state === '53100') return make('STORE_FULL', `${server} cannot write: its disk is full; nothing was recorded. Free space on the server, then retry`);
  if (state === '25006') {
    return make('STORE_READ_ONLY', `${server} accepts no writes (a read-only standby, or default_transaction_read_only); point ${WHERE} at the primary`);
  }
  if (/server does not support SSL/i.test(text)) {
    return make('STORE_TLS_FAILED', `${server} does not offer TLS; remove sslmode from the URL (or set sslmode=disable) or enable ssl on the server`);
  }
  if (sock && /CERT|SSL|TLS|SIGNATURE|ISSUER/.test(sock)) {
    return make('STORE_TLS_FAILED', `TLS to ${server} failed: ${text}; give its CA with sslrootcert= (or the ssl option), or check the host name`);
  }
  if (
    state?.startsWith('08') ||
    state === '57P01' ||
    state === '57P02' ||
    state === '57P03' ||
    (sock && ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOENT'].includes(sock)) ||
    /Connection terminated|timeout exceeded when trying to connect|not queryable/i.test(text)
  ) {
    const why =
      sock === 'ECONNREFUSED'
        ? 'connection refused'
        : sock === 'ENOTFOUND' || sock === 'EAI_AGAIN'
          ? 'the host name does not resolve'
          : state === '57P03'
            ? 'it is starting up or shutting down'
            : /timeout/i.test(text) || sock === 'ETIMEDOUT'
              ? 'timed out'
              : 'the connection was lost';
    return make('STORE_UNREACHABLE', `cannot reach ${server}: ${why}. Check that it is running and that the host and port in ${WHERE} are right`);
  }
  return undefined;
}

/** A last guard: the messages above never include the password. Shorter ones would mask ordinary words. */
function mask(message: string, password: string): string {
  return password.length >= 4 ? message.split(password).join('***') : message;
}
