/**
 * The error catalogue: every failure mailgate reports has one code here, with whether a retry can help.
 * Expected outcomes (held, blocked) are values, not errors; these are for requests that cannot proceed.
 * Messages tell the caller how to recover, because the caller is often a model.
 */
const ERRORS = {
  INVALID_INPUT: { retryable: false, meaning: 'a field failed validation' },
  UNKNOWN_MAILBOX: { retryable: false, meaning: 'no mailbox with that address' },
  MAILBOX_EXISTS: { retryable: false, meaning: 'a mailbox with that address already exists' },
  UNKNOWN_MESSAGE: { retryable: false, meaning: 'no outbound message with that message_id' },
  UNKNOWN_EMAIL: { retryable: false, meaning: 'no inbound email with that email_id' },
  NOT_OUTCOME_UNKNOWN: { retryable: false, meaning: 'the message is not outcome_unknown, so there is nothing to resolve' },
  NOT_PENDING: { retryable: false, meaning: 'the message is no longer pending, so it cannot be decided or cancelled' },
  IDEMPOTENCY_CONFLICT: { retryable: false, meaning: 'the idempotency_key was used before with different content' },
  FORBIDDEN: { retryable: false, meaning: 'the caller’s role may not do this' },
  UNAUTHENTICATED: { retryable: false, meaning: 'the token (MAILGATE_TOKEN) is unknown or revoked' },
  UNKNOWN_TOKEN: { retryable: false, meaning: 'no token with that name or id' },
  CONFIRMATION_REQUIRED: {
    retryable: false,
    meaning: 'a person must confirm this approval, or this loosening of a mailbox, outside the model (browser link, client prompt or CLI)',
  },
  NOT_CONFIRMED: { retryable: false, meaning: 'the person declined to confirm the approval; the message stays held' },
  LINK_INVALID: { retryable: false, meaning: 'the link is unknown, used, expired, or the message (or mailbox) changed since it was made' },
  CONFIG_INVALID: { retryable: false, meaning: 'the configuration file or flags are invalid' },
  UNAVAILABLE: { retryable: true, meaning: 'the mail server cannot be reached now' },
  OAUTH_LOGIN_REQUIRED: {
    retryable: false,
    meaning: 'the OAuth2 provider refused the refresh token (revoked, expired or issued to another client); run mailgate oauth login again',
  },
  MAIL_REFUSED: {
    retryable: false,
    meaning: 'the mail server refused the request for good (no such folder, no permission, a flag it does not allow); the message carries its reason',
  },
  STORE_BUSY: {
    retryable: true,
    meaning: 'the database is locked by another process, or (PostgreSQL) at its connection limit or in a lock conflict; retry shortly',
  },
  STORE_FULL: { retryable: true, meaning: 'the disk holding the database is full; free space, then retry' },
  STORE_CORRUPT: { retryable: false, meaning: 'the database file is damaged; restore it from a backup' },
  STORE_NOT_DATABASE: { retryable: false, meaning: 'the database path names a file that is not a SQLite database' },
  STORE_TOO_NEW: { retryable: false, meaning: 'the database was written by a newer mailgate; upgrade mailgate' },
  STORE_READ_ONLY: { retryable: false, meaning: 'the database file or its directory cannot be written' },
  STORE_CANNOT_OPEN: { retryable: false, meaning: 'the database, or its WAL and shared-memory files, cannot be opened' },
  STORE_IO_ERROR: { retryable: true, meaning: 'the operating system reported an I/O error on the database file' },
  STORE_UNREACHABLE: { retryable: true, meaning: 'the PostgreSQL server cannot be reached (refused, timed out, starting up or the connection dropped)' },
  STORE_AUTH_FAILED: { retryable: false, meaning: 'the PostgreSQL server refused the login: check the user and password of the database URL' },
  STORE_NO_DATABASE: { retryable: false, meaning: 'the database named in the PostgreSQL URL does not exist on that server; create it first' },
  STORE_TLS_FAILED: { retryable: false, meaning: 'TLS to the PostgreSQL server failed: it offers no TLS, or its certificate did not verify' },
  INTERNAL: { retryable: true, meaning: 'an unexpected server error' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class MailgateError extends Error {
  readonly code: ErrorCode;
  /** The input field at fault, when there is one. */
  readonly field: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, opts: { field?: string; details?: Record<string, unknown> } = {}) {
    super(message);
    this.name = 'MailgateError';
    this.code = code;
    this.field = opts.field;
    this.details = opts.details ?? {};
  }

  get retryable(): boolean {
    return ERRORS[this.code].retryable;
  }
}

export const invalid = (field: string, message: string) => new MailgateError('INVALID_INPUT', `${field}: ${message}`, { field });

/** Turns anything thrown into a MailgateError without leaking internals (stack, SQL) into the message. */
export function toMailgateError(err: unknown): MailgateError {
  if (err instanceof MailgateError) return err;
  return storeError(err, undefined) ?? new MailgateError('INTERNAL', 'internal error; the details were logged to stderr');
}

/**
 * Translates a better-sqlite3 error (its `code` is SQLite's extended result code name) into a catalogued one
 * that names the database file and what to do, or returns undefined for anything else. The store passes its
 * path; without one the message points at the settings that choose the file.
 */
export function storeError(err: unknown, path: string | undefined): MailgateError | undefined {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const db = path ? `the database ${path}` : "the database (MAILGATE_DATABASE_URL, --db, MAILGATE_DB or the config's database)";
  const file = path ?? 'the database file';
  const details = { database: path ?? null, sqlite_code: code };
  // Extended codes first (SQLITE_IOERR_SHMOPEN is an IOERR, SQLITE_READONLY_DIRECTORY a READONLY).
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED' || code.startsWith('SQLITE_LOCKED_')) {
    return new MailgateError('STORE_BUSY', `${db} is busy (another mailgate process holds the write lock); retry in a moment`, { details });
  }
  if (code === 'SQLITE_FULL') {
    return new MailgateError(
      'STORE_FULL',
      `${db} cannot grow: the disk (filesystem) holding it is full; nothing was recorded. Free space there (df shows it), then retry`,
      { details },
    );
  }
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_')) {
    return new MailgateError(
      'STORE_CORRUPT',
      `${db} is damaged (the database disk image is malformed). Stop every mailgate ` +
        `process using it, keep a copy, and restore it from a backup (sqlite3's .recover command can salvage rows; ` +
        `'mailgate audit verify' checks the audit chain afterwards)`,
      { details },
    );
  }
  if (code === 'SQLITE_NOTADB') {
    return new MailgateError(
      'STORE_NOT_DATABASE',
      `${file} is not a SQLite database (another program's file, or encrypted). ` +
        `Point MAILGATE_DATABASE_URL, --db, MAILGATE_DB or the config's database at a mailgate database or a new path, or move the file away`,
      { details },
    );
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) {
    return new MailgateError(
      'STORE_READ_ONLY',
      `${db} cannot be written: mailgate needs write access to the file and to its ` +
        `directory (for the -wal and -shm files beside it). Check the permissions, the owner and whether the filesystem is mounted read-only`,
      { details },
    );
  }
  if (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_CANTOPEN_') || code.startsWith('SQLITE_IOERR_SHM')) {
    return new MailgateError(
      'STORE_CANNOT_OPEN',
      `cannot open ${db} or its -wal/-shm files: check that the directory exists, ` +
        `is writable by this user and has free space, and that it is on a local filesystem (write-ahead logging needs shared memory, which network filesystems lack)`,
      { details },
    );
  }
  if (code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')) {
    return new MailgateError(
      'STORE_IO_ERROR',
      `the operating system reported an I/O error on ${file}; check the disk (dmesg, SMART) and the filesystem, then retry`,
      { details },
    );
  }
  return undefined;
}

/** The error for an unknown mailbox, naming the ones that exist so the caller can correct itself. */
export function unknownMailboxError(address: string, known: readonly string[]): MailgateError {
  return new MailgateError(
    'UNKNOWN_MAILBOX',
    `unknown mailbox '${address}'; known mailboxes: ${known.length ? known.join(', ') : '(none; an operator can create one)'}`,
    { field: 'mailbox' },
  );
}
