/**
 * src/cli/heap.ts: a server keeps V8's young generation at its starting size and collects the old generation at
 * 1.5x its live size, by V8 flags set at run time (an MCP client starts `node mailgate.js` with no flags of ours).
 * What could break it: V8 ignoring flags set after start-up (the first test shows they take effect, on a workload
 * with an indexing run's shape), or `serve` no longer setting them (the second records what it sets).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_HEAP_FLAGS } from '../../src/cli/heap.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, ROOT, startServer } from './harness.js';

const tmp = tempDir('mailgate-e2e-heap-');
beforeAll(() => assertBuilt());
afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

/**
 * Short-lived objects that survive a few scavenges (a ring of 50,000), millions of them: what fetching and
 * parsing mail makes. Prints the largest young generation and heap seen, in MiB.
 */
const WORKLOAD = `
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
const { tuneHeapForServer } = await import(${JSON.stringify(join(ROOT, 'dist/src/cli/heap.js'))});
if (process.argv[1] === 'tuned') tuneHeapForServer();
const ring = new Array(50000);
let young = 0, heap = 0;
for (let i = 0; i < 4000000; i++) {
  ring[i % ring.length] = { i, s: 'message ' + i, parts: [i, i + 1] };
  if (i % 20000 === 0) {
    young = Math.max(young, getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
    heap = Math.max(heap, getHeapStatistics().total_heap_size);
  }
}
console.log(JSON.stringify({ young: young / 2 ** 20, heap: heap / 2 ** 20 }));
`;

function run(mode: 'default' | 'tuned'): { young: number; heap: number } {
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', WORKLOAD, mode], { encoding: 'utf8' }));
}

describe('server heap tuning', () => {
  it('takes effect when set at run time: the young generation stays at its start, the heap far smaller', () => {
    const untuned = run('default');
    const tuned = run('tuned');
    expect(untuned.young).toBeGreaterThanOrEqual(16); // the workload does grow it, without the flags
    expect(tuned.young).toBeLessThanOrEqual(4);
    expect(tuned.heap).toBeLessThan(untuned.heap / 2);
  });

  it('is set by serve once it is up', async () => {
    const record = tmp.file('flags.txt');
    writeFileSync(record, '');
    const hook = tmp.file('record-flags.mjs');
    writeFileSync(
      hook,
      [
        "import v8 from 'node:v8';",
        "import { syncBuiltinESMExports } from 'node:module';",
        "import { appendFileSync } from 'node:fs';",
        'const set = v8.setFlagsFromString;',
        `v8.setFlagsFromString = (flags) => { appendFileSync(${JSON.stringify(record)}, flags + '\\n'); return set(flags); };`,
        'syncBuiltinESMExports();',
      ].join('\n'),
    );
    const server = await startServer({ role: 'agent', db: tmp.file('s.db'), home: tmp.path, env: { NODE_OPTIONS: `--import ${hook}` } });
    await server.client.listTools();
    expect(readFileSync(record, 'utf8').split('\n').filter(Boolean)).toEqual([...SERVER_HEAP_FLAGS]);
    await server.close();
  });
});
