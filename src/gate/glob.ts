/**
 * Case-insensitive glob matching for domain and subject rules: `*` is any run of characters, `?` one.
 * Compiled to an anchored RegExp with everything else escaped, so a pattern can never inject regex syntax.
 */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'is');
}

export function globMatch(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}
