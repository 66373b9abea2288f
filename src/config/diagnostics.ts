/**
 * Config file problems said so a person can fix them without counting characters (issue 12): a JSON syntax
 * error as line and column with the line itself and a caret, and an unknown key with the known key it is
 * probably a typo of.
 */
import type * as z from 'zod';

/** `FILE is not valid JSON: WHAT at line L, column C`, then the offending line with a caret under the column. */
export function jsonSyntaxProblem(file: string, text: string, err: Error): string {
  // V8 names the position for most errors ("... in JSON at position 7", Node 22: "(line 1 column 8)"), not all
  // ("Unexpected token '}', "..." is not valid JSON"); the scanner below finds it when the message does not.
  const stated = /at position (\d+)/.exec(err.message);
  const offset = stated ? Number(stated[1]) : (syntaxErrorOffset(text) ?? text.length);
  const found = text[offset];
  const what = /^Unexpected token/.test(err.message)
    ? `Unexpected ${found === undefined ? 'end of file' : found === '\n' || found === '\r' ? 'line break' : `'${found}'`}`
    : err.message
        .replace(/ in JSON at position \d+.*$/, '')
        .replace(/^Unexpected end of JSON input$/, text.trim() ? 'the file ends too early' : 'the file is empty');
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const column = offset - lineStart + 1;
  const source = (text.slice(lineStart).split('\n')[0] ?? '').replace(/\r$/, '');
  const gutter = `${line} | `;
  // Tabs keep their width under the caret by being repeated from the source line itself.
  const pad = source.slice(0, column - 1).replace(/[^\t]/g, ' ');
  return `${file} is not valid JSON: ${what} at line ${line}, column ${column}:\n      ${gutter}${source}\n      ${' '.repeat(gutter.length)}${pad}^`;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Any character from the space up but `"` and `\`, or an escape: JSON allows no raw control characters in a string.
const STRING = /"(?:[ !#-[\]-\uFFFF]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Where a JSON text first stops being JSON (the start of the bad token), or undefined when it parses. */
export function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const skip = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const sticky = (re: RegExp) => {
    re.lastIndex = i;
    if (!re.test(text)) throw i;
    i = re.lastIndex;
  };
  const expect = (c: string) => {
    skip();
    if (text[i] !== c) throw i;
    i++;
  };
  const value = (): void => {
    skip();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      skip();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          skip();
          sticky(STRING);
          expect(':');
        }
        value();
        skip();
        if (text[i] === ',') i++;
        else {
          expect(close);
          return;
        }
      }
    }
    if (c === '"' || c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      sticky(c === '"' ? STRING : NUMBER);
      return;
    }
    // A misspelt literal ("tru}") is wrong where it stops matching, as V8 reports it.
    const literal = ['true', 'false', 'null'].find((l) => l[0] === c);
    if (!literal) throw i;
    for (const ch of literal) {
      if (text[i] !== ch) throw i;
      i++;
    }
  };
  try {
    value();
    skip();
    return i < text.length ? i : undefined;
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
}

/** The known keys of the object a zod issue's path leads to in `schema` (through arrays, records, defaults, pipes). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  for (const step of [...path, undefined]) {
    // Unwrap the wrappers that do not change the value's shape.
    for (let def = defOf(node); def; def = defOf(node)) {
      if (def.innerType) node = def.innerType;
      else if (def.type === 'pipe') node = def.in;
      else break;
    }
    const def = defOf(node);
    if (step === undefined) return def?.type === 'object' ? Object.keys(def.shape ?? {}) : [];
    if (def?.type === 'object') node = def.shape?.[String(step)];
    else if (def?.type === 'array') node = def.element;
    else if (def?.type === 'record') node = def.valueType;
    else return [];
  }
  return [];
}

interface Def {
  type?: string;
  innerType?: unknown;
  in?: unknown;
  shape?: Record<string, unknown>;
  element?: unknown;
  valueType?: unknown;
}
const defOf = (node: unknown): Def | undefined => (node as { _zod?: { def?: Def } } | undefined)?._zod?.def;

/** The known key `key` is most likely a misspelling of: at most 2 edits away (case ignored), the nearest. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = editDistance(key.toLowerCase(), name.toLowerCase());
    if (d <= Math.min(2, Math.max(1, name.length - 2)) && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** Levenshtein distance, with an adjacent swap counting as one edit (the commonest typo). */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
