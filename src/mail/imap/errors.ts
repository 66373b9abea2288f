/**
 * The one place where imapflow outcomes become mailgate errors. A tagged NO or BAD is the server answering
 * on a healthy connection: it is kept open, and the response code (RFC 5530) says whether trying again can
 * help. Anything else (socket closed, reset, timed out, no connection) is the connection failing: UNAVAILABLE,
 * retryable, and the caller drops the connection.
 */
import { MailgateError } from '../../errors.js';

/** What imapflow attaches to an error from a tagged NO/BAD response. */
export interface CommandError {
  responseStatus?: string;
  serverResponseCode?: string;
  responseText?: string;
  message?: string;
}

/**
 * RFC 5530 codes for conditions that pass on their own (UNAVAILABLE, INUSE, SERVERBUG, EXPUNGEISSUED) or
 * with a connection of its own (LIMIT: too many sessions). Every other NO/BAD is the same answer next time:
 * TRYCREATE and NONEXISTENT (no such folder), NOPERM (ACL, RFC 4314), CANNOT (e.g. a keyword too long),
 * OVERQUOTA (frees only when someone deletes mail), ALREADYEXISTS, or no code at all.
 */
const TRANSIENT_CODES = new Set(['UNAVAILABLE', 'INUSE', 'SERVERBUG', 'EXPUNGEISSUED', 'LIMIT']);

/** True when the error is the server's answer to a command (the connection is fine). */
export function isServerAnswer(err: unknown): err is CommandError {
  const status = (err as CommandError | null)?.responseStatus;
  return status === 'NO' || status === 'BAD';
}

/** The server's own words, without Dovecot's timing suffix "(0.001 + 0.000 secs)." */
export function serverReason(err: CommandError): string {
  const text = (err.responseText ?? err.message ?? 'no reason given').replace(/\s*\([\d.]+ \+ [\d.]+(?: \+ [\d.]+)? secs\)\.?\s*$/, '');
  return err.serverResponseCode ? `[${err.serverResponseCode}] ${text}` : text;
}

/** Whether the same command can succeed later without anyone changing anything. */
export function isPermanent(err: CommandError): boolean {
  return err.responseStatus === 'BAD' || !TRANSIENT_CODES.has((err.serverResponseCode ?? '').toUpperCase());
}

/**
 * A server refusal as a catalogued error: MAIL_REFUSED (permanent, never retried) or UNAVAILABLE (the server
 * said to try later). `what` names the request, e.g. "moving the email to Archive".
 */
export function refusalError(label: string, what: string, err: CommandError): MailgateError {
  const reason = serverReason(err);
  return isPermanent(err)
    ? new MailgateError('MAIL_REFUSED', `${label}: the IMAP server refused ${what}: ${reason}; this will not be retried, change the request`, {
        details: { reason },
      })
    : new MailgateError('UNAVAILABLE', `${label}: the IMAP server cannot do ${what} now: ${reason}; retry shortly`, { details: { reason } });
}

/** A connection-level failure (anything that is not a server answer). */
export function connectionError(label: string, err: unknown): MailgateError {
  return new MailgateError('UNAVAILABLE', `${label}: the IMAP connection failed (${(err as Error)?.message ?? String(err)}); retry shortly`);
}

/** Opening (SELECT) a folder failed: a folder that does not exist is the caller's input, not an outage. */
export function folderOpenError(label: string, folder: string, err: unknown, folders: readonly string[] | undefined): MailgateError {
  if (folders)
    return new MailgateError(
      'INVALID_INPUT',
      `folder '${folder}' does not exist in ${label}; folders: ${folders.join(', ')} (list_folders shows each with its special use and counts)`,
      { field: 'folder' },
    );
  if (isServerAnswer(err)) return refusalError(label, `opening folder '${folder}'`, err);
  return new MailgateError('UNAVAILABLE', `${label}: cannot open folder '${folder}' (${(err as Error)?.message ?? String(err)})`);
}

/** True when opening a folder failed because it does not exist (RFC 5530 NONEXISTENT, or the text says so). */
export function isMissingFolder(err: unknown): boolean {
  const e = err as CommandError | null;
  return e?.serverResponseCode === 'NONEXISTENT' || /exist/i.test(e?.responseText ?? '');
}
