/**
 * Diacritic folding for PostgreSQL's search, so `cafe` finds `café` as SQLite's FTS5 (remove_diacritics) does.
 * `unaccent` would need an extension and is not immutable, so a generated column cannot use it; translate() with
 * a fixed table is both built in and immutable. The table is every Latin letter in U+00C0..U+024F whose canonical
 * decomposition is a base letter and combining marks, upper case too (lower() folds only ASCII under the C
 * collation the schema uses); the query side folds its words with the same table, so the two always agree.
 */
const pairs: [string, string][] = [];
for (let cp = 0xc0; cp <= 0x24f; cp++) {
  const ch = String.fromCodePoint(cp);
  const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
  if (base !== ch && base.length === 1 && /[a-z]/i.test(base)) pairs.push([ch, base.toLowerCase()]);
}

export const FOLD_FROM = pairs.map(([c]) => c).join('');
export const FOLD_TO = pairs.map(([, b]) => b).join('');

const table = new Map(pairs);

/** A search word as search_vector holds it: diacritics folded by the same table, lower case. */
export const foldWord = (word: string): string =>
  [...word]
    .map((c) => table.get(c) ?? c)
    .join('')
    .toLowerCase();
