/**
 * Config errors through the built CLI (issue 12): a JSON syntax error by line and column with the line and a
 * caret, an unknown key with "did you mean", both exit 2 and neither creates a database.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli } from './harness.js';

const tmp = tempDir('mailgate-e2e-cli-config-');
const home = tmp.path;
beforeAll(() => assertBuilt());
afterAll(() => tmp.cleanup());

describe('config errors at the command line', () => {
  it('a syntax error: exit 2, line and column, the line with a caret', async () => {
    const config = tmp.file('syntax.json');
    const db = tmp.file('syntax.db');
    writeFileSync(config, '{\n  "mailboxes": [\n    { "address": "a@b.com", }\n  ]\n}\n');
    const r = await runCli(['mailbox', 'list', '--config', config, '--db', db], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${config} is not valid JSON: Expected double-quoted property name at line 3, column 29:`);
    expect(r.stderr).toContain(`      3 |     { "address": "a@b.com", }\n${' '.repeat(38)}^\n`);
    expect(existsSync(db)).toBe(false);
  });

  it('an unknown key: exit 2 with the key it is probably a typo of', async () => {
    const config = tmp.file('typo.json');
    const db = tmp.file('typo.db');
    writeFileSync(config, JSON.stringify({ mailboxes: [{ address: 'a@b.com', oversight_mod: 'autonomous' }] }));
    const r = await runCli(['mailbox', 'list', '--config', config, '--db', db], { home });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mailboxes[0]: Unrecognized key: "oversight_mod" (did you mean `oversight_mode`?)');
    expect(existsSync(db)).toBe(false);
  });
});
