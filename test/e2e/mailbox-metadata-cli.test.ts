/** `mailgate mailbox create|update --metadata key=value`: labels as JSON values, replaced as a whole, bad ones refused. */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { runCli } from './harness.js';

const tmp = tempDir('mailgate-e2e-mb-meta-');
const db = tmp.file('meta.db');
const cli = (...args: string[]) => runCli([...args, '--db', db], { home: tmp.path });
const labels = async (address: string) =>
  (JSON.parse((await cli('mailbox', 'list', '--json')).stdout).mailboxes as { address: string; metadata: unknown }[]).find((m) => m.address === address)
    ?.metadata;

describe('mailbox labels from the command line', () => {
  it('create with pairs, update replaces them; a bad pair exits 2 naming --metadata', async () => {
    expect((await cli('mailbox', 'create', 'ops@mailgate.test', '--metadata', 'team=ops', '--metadata', 'tier=2', '--metadata', 'code="7"')).code).toBe(0);
    expect(await labels('ops@mailgate.test')).toEqual({ team: 'ops', tier: 2, code: '7' });
    const r = await cli('mailbox', 'update', 'ops@mailgate.test', '--metadata', 'team=platform', '--reason', 'reorg');
    expect(r.code, r.stderr).toBe(0);
    expect(await labels('ops@mailgate.test')).toEqual({ team: 'platform' });
    const bad = await cli('mailbox', 'update', 'ops@mailgate.test', '--metadata', 'no-equals-sign', '--reason', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/INVALID_INPUT: --metadata: give key=value/);
  });
});
