/**
 * Our SQL marks parameters as SQLite does (`?` positional, or `@name` named with an object); PostgreSQL wants
 * `$1..$n` and an array. This rewrites the text once per distinct statement (cached) and maps each call's params
 * onto the numbers. Text inside '...' strings (E'...' with backslash escapes), "..." identifiers, $tag$...$tag$
 * bodies and comments is left alone, as are the `::` of casts and the operators `@@`, `@>` and `<@`.
 * The jsonb operators `?`, `?|` and `?&` cannot be written in our SQL: use jsonb_exists() and friends.
 *
 * One more rewrite: PostgreSQL types a parameter where it first meets it, and `$1 IS NULL` says nothing, so the
 * common `(@since IS NULL OR created_at >= @since)` fails to prepare ("could not determine data type of parameter
 * $1"). A parameter's null test is therefore answered here: `@x IS NULL` becomes a boolean parameter holding
 * `x === null` (IS NOT NULL its negation), where the test stands alone as an operand of AND, OR, NOT, WHERE, ...
 */
import type { SqlParams } from './types.js';

/** Where the value of each $n comes from: a name or a `?` index, or whether that one is null. */
interface Slot {
  from: string | number;
  isNull?: true;
}

interface Translation {
  text: string;
  style: 'positional' | 'named';
  slots: readonly Slot[];
  /** How many `?` the caller must give (positional style). */
  positional: number;
}

const cache = new Map<string, Translation>();
/** Statements are constants or built from a few fragments; the bound only guards against a caller that inlines values. */
const CACHE_LIMIT = 5000;

const isIdentChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_$]/.test(c);
const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;
const NULL_TEST = /^\s+IS\s+(NOT\s+)?NULL\b/i;
/** What may precede a null test we answer: it must be a whole operand, not the tail of `a + @x IS NULL`. */
const OPERAND_START = /(^|[(,]|\b(AND|OR|NOT|WHERE|WHEN|THEN|ELSE|ON|HAVING|SELECT|CASE))\s*$/i;

/** The $1-style text of a statement and where each parameter's value comes from. */
export function translateSql(sql: string): Translation {
  let t = cache.get(sql);
  if (!t) {
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(sql, (t = scan(sql)));
  }
  return t;
}

function scan(sql: string): Translation {
  const slots: Slot[] = [];
  const numbers = new Map<string, number>(); // named style: one number per name (and per name's null test)
  let positional = 0;
  let named = false;
  let out = '';
  let from = 0; // sql[from, i) is still to be copied
  const slot = (s: Slot) => {
    const key = `${s.isNull ? '?' : ''}${s.from}`;
    let n = typeof s.from === 'string' ? numbers.get(key) : undefined;
    if (n === undefined) {
      slots.push(s);
      n = slots.length;
      if (typeof s.from === 'string') numbers.set(key, n);
    }
    return n;
  };
  /** Replaces sql[i, end) (a parameter) and a null test right after it, if it stands alone. */
  const param = (i: number, end: number, source: string | number) => {
    const test = NULL_TEST.exec(sql.slice(end));
    out += sql.slice(from, i);
    if (test && OPERAND_START.test(out)) {
      const n = slot({ from: source, isNull: true });
      out += test[1] ? `(NOT $${n}::boolean)` : `$${n}::boolean`;
      from = end + test[0].length;
    } else {
      out += `$${slot({ from: source })}`;
      from = end;
    }
    return from;
  };
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === "'") {
      // E'...' strings take backslash escapes; the E must be a word of its own (not the end of an identifier).
      const escapes = /[eE]/.test(sql[i - 1] ?? '') && !isIdentChar(sql[i - 2]);
      i = endOfQuoted(sql, i, "'", escapes);
    } else if (c === '"') {
      i = endOfQuoted(sql, i, '"', false);
    } else if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? sql.length : eol + 1;
    } else if (c === '/' && next === '*') {
      i = endOfBlockComment(sql, i);
    } else if (c === '$' && !isIdentChar(sql[i - 1]) && DOLLAR_TAG.test(sql.slice(i, i + 66))) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 66))![0];
      const end = sql.indexOf(tag, i + tag.length);
      i = end < 0 ? sql.length : end + tag.length;
    } else if (c === ':' && next === ':') {
      i += 2;
    } else if (c === '?') {
      i = param(i, i + 1, positional++);
    } else if (c === '@' && /[A-Za-z_]/.test(next ?? '') && !/[@<]/.test(sql[i - 1] ?? '') && !isIdentChar(sql[i - 1])) {
      let end = i + 1;
      while (end < sql.length && /[A-Za-z0-9_]/.test(sql[end]!)) end++;
      named = true;
      i = param(i, end, sql.slice(i + 1, end));
    } else {
      i++;
    }
  }
  out += sql.slice(from);
  if (positional > 0 && named) throw new Error(`SQL mixes ? and @name parameters; use one style: ${sql.slice(0, 200)}`);
  return { text: out, style: named ? 'named' : 'positional', slots, positional };
}

/** The index just past the closing quote ('' or "" inside are the quote itself; \x too in E'...'). */
function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  for (let i = start + 1; i < sql.length; i++) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i++;
    else if (c === quote) {
      if (sql[i + 1] !== quote) return i + 1;
      i++;
    }
  }
  return sql.length;
}

/** PostgreSQL's block comments nest. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0;
  for (let i = start; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') depth++, i++;
    else if (sql[i] === '*' && sql[i + 1] === '/') {
      i++;
      if (--depth === 0) return i + 1;
    }
  }
  return sql.length;
}

/**
 * The statement and values to send. A missing or undefined value is an error here, as better-sqlite3 makes it
 * one, so both backends refuse the same calls.
 */
export function toPgQuery(sql: string, params?: SqlParams): { text: string; values: unknown[] } {
  const t = translateSql(sql);
  const short = sql.slice(0, 200);
  let get: (from: string | number) => unknown;
  if (t.style === 'positional') {
    if (params !== undefined && !Array.isArray(params) && t.positional > 0) throw new Error(`SQL with ? parameters takes an array, not an object: ${short}`);
    const given = Array.isArray(params) ? (params as readonly unknown[]) : [];
    if (given.length !== t.positional) throw new Error(`SQL has ${t.positional} ? parameter(s) but ${given.length} value(s) were given: ${short}`);
    get = (i) => {
      const v = given[i as number];
      if (v === undefined) throw new Error(`parameter ${(i as number) + 1} is undefined (use null): ${short}`);
      return v;
    };
  } else {
    if (params === undefined || Array.isArray(params)) throw new Error(`SQL with @name parameters takes an object: ${short}`);
    const named = params as Readonly<Record<string, unknown>>;
    get = (name) => {
      const v = named[name as string];
      if (v === undefined) throw new Error(`missing named parameter @${String(name)} (use null for NULL): ${short}`);
      return v;
    };
  }
  return { text: t.text, values: t.slots.map((s) => (s.isNull ? get(s.from) === null : get(s.from))) };
}
