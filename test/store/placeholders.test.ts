/** Our `?` / `@name` SQL to PostgreSQL's `$n`: what is a parameter, what is left alone, and how values line up. */
import { describe, expect, it } from 'vitest';
import { toPgQuery, translateSql } from '../../src/store/sql/placeholders.js';

const text = (sql: string) => translateSql(sql).text;

describe('positional ?', () => {
  it('numbers each ? in order and passes the array through', () => {
    expect(toPgQuery('SELECT * FROM t WHERE a = ? AND b IN (?, ?)', [1, 'x', null])).toEqual({
      text: 'SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)',
      values: [1, 'x', null],
    });
  });

  it('refuses a count mismatch, an object and undefined, as better-sqlite3 does', () => {
    expect(() => toPgQuery('SELECT ?, ?', [1])).toThrow(/2 \? parameter\(s\) but 1/);
    expect(() => toPgQuery('SELECT ?', { a: 1 })).toThrow(/takes an array/);
    expect(() => toPgQuery('SELECT ?', [undefined])).toThrow(/undefined/);
    expect(() => toPgQuery('SELECT ?')).toThrow(/1 \? parameter/);
  });

  it('a statement without parameters takes none', () => {
    expect(toPgQuery('SELECT 1')).toEqual({ text: 'SELECT 1', values: [] });
    expect(toPgQuery('SELECT 1', [])).toEqual({ text: 'SELECT 1', values: [] });
  });
});

describe('named @name', () => {
  it('gives each distinct name one number, reused where the name repeats', () => {
    const q = toPgQuery('SELECT * FROM t WHERE id IN (SELECT value FROM x(@ids)) AND m = @mailbox AND n > @n_1 AND k = @ids', {
      mailbox: 'a@b.c',
      ids: '[1]',
      n_1: 5,
      unused: 'ignored',
    });
    expect(q.text).toBe('SELECT * FROM t WHERE id IN (SELECT value FROM x($1)) AND m = $2 AND n > $3 AND k = $1');
    expect(q.values).toEqual(['[1]', 'a@b.c', 5]);
  });

  it('refuses a missing or undefined name, and an array', () => {
    expect(() => toPgQuery('SELECT @a, @b', { a: 1 })).toThrow(/missing named parameter @b/);
    expect(() => toPgQuery('SELECT @a', { a: undefined })).toThrow(/@a/);
    expect(() => toPgQuery('SELECT @a', [1])).toThrow(/takes an object/);
  });

  it('refuses SQL that mixes the two styles', () => {
    expect(() => translateSql('SELECT ? , @a')).toThrow(/mixes/);
  });

  it('leaves the operators @@, @> and <@ alone', () => {
    expect(text('SELECT 1 WHERE v @@ to_tsquery(@q) AND v @@to_tsquery(@q) AND a @> b AND a <@ b')).toBe(
      'SELECT 1 WHERE v @@ to_tsquery($1) AND v @@to_tsquery($1) AND a @> b AND a <@ b',
    );
  });
});

describe("a parameter's own null test", () => {
  it('is answered with a boolean parameter, so PostgreSQL never has to type `$n IS NULL`', () => {
    expect(toPgQuery('SELECT * FROM t WHERE (@since IS NULL OR created_at >= @since) AND (@m IS NOT NULL)', { since: null, m: 'x' })).toEqual({
      text: 'SELECT * FROM t WHERE ($1::boolean OR created_at >= $2) AND ((NOT $3::boolean))',
      values: [true, null, false],
    });
    expect(toPgQuery('SELECT 1 WHERE ? IS NULL OR x >= ?', [5, 5])).toEqual({ text: 'SELECT 1 WHERE $1::boolean OR x >= $2', values: [false, 5] });
  });

  it('reuses one number per name, and tests written in lower case too', () => {
    expect(toPgQuery('SELECT 1 WHERE @a is null AND NOT @a IS  NULL, CASE WHEN @a IS NULL THEN @a END', { a: 1 }).text).toBe(
      'SELECT 1 WHERE $1::boolean AND NOT $1::boolean, CASE WHEN $1::boolean THEN $2 END',
    );
  });

  it('is left to the server where it is not a whole operand', () => {
    expect(text('SELECT 1 WHERE x + @a IS NULL')).toBe('SELECT 1 WHERE x + $1 IS NULL');
    expect(text('SELECT 1 WHERE @a IS NULLABLE')).toBe('SELECT 1 WHERE $1 IS NULLABLE');
  });
});

describe('what is not a parameter', () => {
  it('string literals, with doubled quotes inside', () => {
    expect(text("SELECT 'it''s ? @x', ? FROM t WHERE a = 'x@y.z'")).toBe("SELECT 'it''s ? @x', $1 FROM t WHERE a = 'x@y.z'");
  });

  it("E'...' strings, whose backslash escapes a quote", () => {
    expect(text("SELECT E'a\\'? b', ?")).toBe("SELECT E'a\\'? b', $1");
    // Outside an E string a backslash is an ordinary character.
    expect(text("SELECT 'a\\', ?")).toBe("SELECT 'a\\', $1");
  });

  it('quoted identifiers', () => {
    expect(text('SELECT "odd?name", "a""@b" FROM t WHERE x = ?')).toBe('SELECT "odd?name", "a""@b" FROM t WHERE x = $1');
  });

  it('casts', () => {
    expect(text('SELECT (@list)::json, @x::text')).toBe('SELECT ($1)::json, $2::text');
    expect(text('SELECT ?::bigint')).toBe('SELECT $1::bigint');
  });

  it('-- and /* */ comments (nested, as PostgreSQL allows)', () => {
    expect(text('SELECT ? -- why? @because\n, ?')).toBe('SELECT $1 -- why? @because\n, $2');
    expect(text('SELECT /* a? /* @b */ c? */ ?')).toBe('SELECT /* a? /* @b */ c? */ $1');
  });

  it('dollar-quoted bodies', () => {
    expect(text('SELECT $$ ? @a $$, $tag$ ?$$ $tag$, ?')).toBe('SELECT $$ ? @a $$, $tag$ ?$$ $tag$, $1');
  });

  it('an unterminated literal swallows the rest (the server then reports the syntax error)', () => {
    expect(text("SELECT 'abc ?")).toBe("SELECT 'abc ?");
  });
});

describe('the cache', () => {
  it('returns the same translation for the same text', () => {
    const sql = 'SELECT * FROM cache_probe WHERE a = @a';
    expect(translateSql(sql)).toBe(translateSql(sql));
  });
});
