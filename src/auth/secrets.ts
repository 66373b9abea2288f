/**
 * Bearer secrets (principal tokens, approval links): generated here, stored only as a sha256, compared in
 * constant time. A token carries the `mgt_` prefix so secret scanners (GitHub push protection, gitleaks)
 * can be taught to find a leaked one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { randomToken } from '../ids.js';

export const TOKEN_PREFIX = 'mgt_';

/** 40 characters of a 62-letter alphabet: about 238 bits, far beyond guessing. */
export const newTokenSecret = () => `${TOKEN_PREFIX}${randomToken(40)}`;

/** An approval link's secret: it travels in a URL path, so only URL-safe letters and digits. */
export const newLinkSecret = () => randomToken(40);

/**
 * The stored form of a secret. A plain sha256 (no salt, no slow hash) is enough because the secrets are
 * random and long, not chosen by people; it also keeps lookup by hash possible.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/**
 * Constant-time equality of two hex digests. Rows are found by their (indexed) hash first; a timing
 * difference there tells an attacker about the hash of their own guess, never about a stored secret. This
 * check makes the final acceptance independent of where two digests differ.
 */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
