/**
 * Case-insensitive glob matching for domain and subject rules: `*` is any run of characters, `?` exactly
 * one; every other character is literal. A linear-backtracking matcher (the classic single-star-restart
 * algorithm) rather than a RegExp: an agent chooses the subject, and `*a*a*a*!`-style patterns against a
 * crafted subject make a backtracking regex take seconds. This is O(pattern x value) at worst.
 */
export function globMatch(pattern: string, value: string): boolean {
  const p = [...pattern.toLowerCase()];
  const s = [...value.toLowerCase()];
  let pi = 0;
  let si = 0;
  let star = -1; // position of the last '*' seen in the pattern
  let mark = 0; // where in the value that '*' started matching
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === s[si])) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
