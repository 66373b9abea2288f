/** Quoting for the commands mailgate tells a person to run (`mailgate approve ...`), for a POSIX shell. */

/** The word as is when it needs no quoting, else in single quotes (an embedded quote closed, escaped, reopened). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}
