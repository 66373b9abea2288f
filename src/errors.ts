/**
 * The error catalogue: every failure mailgate reports has one code here, with whether a retry can help.
 * Expected outcomes (held, blocked) are values, not errors; these are for requests that cannot proceed.
 * Messages tell the caller how to recover, because the caller is often a model.
 */
export const ERRORS = {
  INVALID_INPUT: { retryable: false, meaning: 'a field failed validation' },
  UNKNOWN_MAILBOX: { retryable: false, meaning: 'no mailbox with that address' },
  MAILBOX_EXISTS: { retryable: false, meaning: 'a mailbox with that address already exists' },
  UNKNOWN_MESSAGE: { retryable: false, meaning: 'no outbound message with that message_id' },
  UNKNOWN_EMAIL: { retryable: false, meaning: 'no inbound email with that email_id' },
  NOT_PENDING: { retryable: false, meaning: 'the message is no longer pending, so it cannot be decided or cancelled' },
  IDEMPOTENCY_CONFLICT: { retryable: false, meaning: 'the idempotency_key was used before with different content' },
  FORBIDDEN: { retryable: false, meaning: 'the caller’s role may not do this' },
  UNAUTHENTICATED: { retryable: false, meaning: 'the token (MAILGATE_TOKEN) is unknown or revoked' },
  UNKNOWN_TOKEN: { retryable: false, meaning: 'no token with that name or id' },
  CONFIRMATION_REQUIRED: { retryable: false, meaning: 'a person must confirm this approval, or this loosening of a mailbox, outside the model (browser link, client prompt or CLI)' },
  NOT_CONFIRMED: { retryable: false, meaning: 'the person declined to confirm the approval; the message stays held' },
  LINK_INVALID: { retryable: false, meaning: 'the link is unknown, used, expired, or the message (or mailbox) changed since it was made' },
  CONFIG_INVALID: { retryable: false, meaning: 'the configuration file or flags are invalid' },
  UNAVAILABLE: { retryable: true, meaning: 'the mail server cannot be reached now' },
  STORE_BUSY: { retryable: true, meaning: 'the database is locked by another process; retry shortly' },
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
  const code = (err as { code?: unknown })?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new MailgateError('STORE_BUSY', 'the database is busy (another mailgate process holds the write lock); retry in a moment');
  }
  return new MailgateError('INTERNAL', 'internal error; the details were logged to stderr');
}

/** The error for an unknown mailbox, naming the ones that exist so the caller can correct itself. */
export function unknownMailboxError(address: string, known: readonly string[]): MailgateError {
  return new MailgateError('UNKNOWN_MAILBOX',
    `unknown mailbox '${address}'; known mailboxes: ${known.length ? known.join(', ') : '(none; an operator can create one)'}`,
    { field: 'mailbox' });
}
