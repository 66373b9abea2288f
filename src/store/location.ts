/**
 * Where the database is: a SQLite file path or a PostgreSQL URL, decided from the text alone (no I/O), so a
 * value that is neither is refused before anything creates a file or directory named after it. Nothing here
 * ever puts the value itself into an error: a refused value may carry a password, and the parts that would be
 * safe to echo cannot be told apart from a password that was not percent-encoded.
 */
import { fileURLToPath } from 'node:url';
import { MailgateError } from '../errors.js';

export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string; display: string };

const ACCEPTED = 'give a SQLite file path (or a file:///absolute/path URL) or a postgres:// or postgresql:// URL';
const ENCODE_HINT = "a password or database name containing '/', '?', '#' or '@' must be percent-encoded";

/**
 * Schemes refused even without `//` after them: written that way they are still meant as URLs (`sqlite:x.db`,
 * `postgres:db`), and taking them as file names would create a file named after a connection string.
 */
const URL_SCHEMES = new Set(['pg', 'file', 'sqlite', 'sqlite3', 'mysql', 'mariadb', 'http', 'https', 'jdbc', 'mongodb', 'redis']);

/**
 * Parses `value`, given by `source` (a flag, an environment variable or the config file, named in errors).
 * Throws CONFIG_INVALID for an empty value, an unsupported URL or a malformed PostgreSQL URL.
 */
export function parseDatabaseLocation(value: string, source: string): DatabaseLocation {
  const refuse = (problem: string) => new MailgateError('CONFIG_INVALID', `${source}: ${problem}; ${ACCEPTED}`, { field: source });
  const text = value.trim();
  // An empty value is most often an unset secret interpolated into the environment: refusing it beats
  // silently opening some other database.
  if (!text) throw refuse('is empty');
  if (/^[A-Za-z]:[\\/]/.test(text)) return { kind: 'sqlite', path: value }; // a Windows drive path, not a scheme
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') return parsePostgres(text, scheme, refuse);
  if (scheme === 'file' && text.slice(4, 7) === '://') return { kind: 'sqlite', path: fileUrlPath(text, refuse) };
  if (scheme === 'sqlite' || scheme === 'sqlite3') {
    // Tools disagree on how many slashes make an absolute path in a sqlite: URL, so no guess is made.
    throw refuse(`a ${scheme}: URL is not taken (tools disagree on what its slashes mean); give the file path itself`);
  }
  if (text.includes('://') || (scheme !== undefined && URL_SCHEMES.has(scheme))) {
    throw refuse(
      scheme && scheme.length <= 30 ? `${/^[aeiou]/.test(scheme) ? 'an' : 'a'} ${scheme}: URL is not supported` : 'looks like a URL, which is not supported',
    );
  }
  if (/^(?:\.{0,2}[\\/])/.test(text)) return { kind: 'sqlite', path: value }; // explicitly a path
  // libpq's `host=... password=...` form and a URL missing its scheme (`user:pw@host/db`) would otherwise become
  // file names holding the password.
  if (/(?:^|\s)(?:host|hostaddr|dbname|user|password|port|sslmode)\s*=/i.test(text)) {
    throw refuse('looks like a key=value connection string, which is not supported; write it as a postgres:// URL');
  }
  if (/^[^\s/\\:@]+:[^\s/\\]*@[^\s/\\]/.test(text)) {
    throw refuse('looks like a URL without its scheme; start it with postgres://, or with ./ if it is a file name');
  }
  return { kind: 'sqlite', path: value };
}

type Refuse = (problem: string) => MailgateError;

function parsePostgres(text: string, scheme: string, refuse: Refuse): DatabaseLocation {
  const prefix = `${scheme}://`;
  if (!text.toLowerCase().startsWith(prefix)) throw refuse(`a ${scheme}: URL must start with ${prefix}`);
  const rest = text.slice(prefix.length);
  const end = rest.search(/[/?#]/);
  const authority = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  // An unencoded '#', or an '@' after the host, means part of a password has slid into the path or query,
  // where it would be shown as if it were the database name.
  if (tail.includes('#')) throw refuse(`the ${scheme}:// URL has a '#'; ${ENCODE_HINT}`);
  if (tail.includes('@')) throw refuse(`the ${scheme}:// URL has an '@' after its host; ${ENCODE_HINT}`);
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const hostport = authority.slice(at + 1);
  const portMatch = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostport);
  const host = portMatch?.[1] ?? '';
  const port = portMatch?.[2];
  const query = tail.indexOf('?') === -1 ? '' : tail.slice(tail.indexOf('?') + 1);
  const params = new URLSearchParams(query);
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    throw refuse(`the ${scheme}:// URL's port is not a number from 1 to 65535 (${ENCODE_HINT})`);
  }
  // libpq and pg take the host (or a socket directory) from ?host= when the URL leaves it out.
  if (!host && !params.get('host')) throw refuse(`the ${scheme}:// URL names no host`);
  const url = `${prefix}${rest}`;
  try {
    new URL(url);
  } catch {
    throw refuse(`the ${scheme}:// URL is malformed (${ENCODE_HINT})`);
  }
  const shownUser = userinfo === undefined ? '' : `${userinfo.includes(':') ? `${userinfo.slice(0, userinfo.indexOf(':'))}:***` : userinfo}@`;
  return { kind: 'postgres', url, display: `${prefix}${shownUser}${hostport}${redactQuery(tail)}` };
}

/** Replaces the value of every query parameter whose name mentions a password (password, sslpassword). */
function redactQuery(tail: string): string {
  const q = tail.indexOf('?');
  if (q === -1) return tail;
  const pairs = tail
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const key = eq === -1 ? pair : pair.slice(0, eq);
      return /pass/i.test(safeDecode(key)) && eq !== -1 ? `${key}=***` : pair;
    });
  return `${tail.slice(0, q)}?${pairs.join('&')}`;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** `file:///absolute/path` only: SQLite URI parameters after '?' would be silently ignored, so they are refused. */
function fileUrlPath(text: string, refuse: Refuse): string {
  if (/[?#]/.test(text)) throw refuse("a file: URL with '?' or '#' is not taken (SQLite URI parameters are not supported); give the file path itself");
  try {
    return fileURLToPath(text);
  } catch {
    throw refuse('a file: URL must be file:///absolute/path (no host)');
  }
}
