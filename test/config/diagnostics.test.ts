/**
 * Config file problems a person can fix at a glance (issue 12): JSON syntax errors by line and column with a
 * caret under the spot, and "did you mean" for an unknown key close to a known one, at any depth of the schema.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { closestKey, syntaxErrorOffset } from '../../src/config/diagnostics.js';
import { loadConfig } from '../../src/config/load.js';
import { MailgateError } from '../../src/errors.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('mailgate-config-diagnostics-');
afterAll(() => tmp.cleanup());

function problemsOf(text: string): string[] {
  const file = tmp.file('config.json');
  writeFileSync(file, text);
  try {
    loadConfig({ config: file, db: tmp.file('unused.db') }, {});
  } catch (err) {
    expect(err).toBeInstanceOf(MailgateError);
    return ((err as MailgateError).details as { problems: string[] }).problems.map((p) => p.replaceAll(file, 'FILE'));
  }
  throw new Error('expected the config to be refused');
}

describe('JSON syntax errors', () => {
  it.each([
    ['a trailing comma', '{\n  "mailboxes": [\n    { "address": "a@b.com", }\n  ]\n}', 3, 29, '    { "address": "a@b.com", }'],
    ['a misspelt literal (V8 gives no position)', '{\n  "require_approval": tru\n}', 2, 26, '  "require_approval": tru'],
    ['a bad token mid-line', '{ "tool_names": dotted }', 1, 17, '{ "tool_names": dotted }'],
    ['a missing comma', '{\n  "require_approval": true\n  "tool_names": "dotted"\n}', 3, 3, '  "tool_names": "dotted"'],
    ['a cut-off file', '{ "mailboxes": [', 1, 17, '{ "mailboxes": ['],
  ])('%s: line and column, the line, a caret', (_name, text, line, column, source) => {
    const [problem] = problemsOf(text);
    const lines = problem!.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^FILE is not valid JSON: .+ at line ${line}, column ${column}:$`));
    expect(lines[1]).toBe(`      ${line} | ${source}`);
    expect(lines[2]!.indexOf('^')).toBe(`      ${line} | `.length + column - 1);
  });

  it('an empty file says so', () => {
    expect(problemsOf('')[0]).toMatch(/^FILE is not valid JSON: the file is empty at line 1, column 1:/);
  });

  it('the scanner agrees with JSON.parse on what parses', () => {
    for (const ok of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"]} ', '"s"', '0']) expect(syntaxErrorOffset(ok)).toBeUndefined();
    expect(syntaxErrorOffset('{"a": 01}')).toBe(7);
    expect(syntaxErrorOffset('{"a": nul}')).toBe(9);
    expect(syntaxErrorOffset('{} x')).toBe(3);
  });
});

describe('unknown keys', () => {
  it('suggest the known key a typo is close to, at the top level and inside mailboxes, servers and approvals', () => {
    const problems = problemsOf(
      JSON.stringify({
        requre_approval: true,
        approvals: { confirm_wth: ['url'] },
        mailboxes: [{ address: 'a@b.com', oversight_mdoe: 'autonomous', smtp: { host: 'h', user: 'u', password: 'p', prot: 25 } }],
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'FILE: (top level): Unrecognized key: "requre_approval" (did you mean `require_approval`?); remove it or check the spelling',
        'FILE: approvals: Unrecognized key: "confirm_wth" (did you mean `confirm_with`?); remove it or check the spelling',
        'FILE: mailboxes[0]: Unrecognized key: "oversight_mdoe" (did you mean `oversight_mode`?); remove it or check the spelling',
        'FILE: mailboxes[0].smtp: Unrecognized key: "prot" (did you mean `port`?); remove it or check the spelling',
      ]),
    );
  });

  it('names a key with nothing close without a guess', () => {
    expect(problemsOf(JSON.stringify({ colour: 'blue', mailboxs: [] }))).toEqual([
      'FILE: (top level): Unrecognized keys: "colour", "mailboxs" (did you mean `mailboxes`?); remove them or check the spelling',
    ]);
  });

  it.each([
    ['databse', 'database'],
    ['Database', 'database'],
    ['tool_name', 'tool_names'],
    ['polcy', 'policy'],
    ['db', undefined],
    ['suppression', undefined],
  ])('closestKey(%s) = %s', (key, want) => {
    expect(closestKey(key, ['database', 'tool_names', 'policy', 'suppress', 'mailboxes'])).toBe(want);
  });
});
