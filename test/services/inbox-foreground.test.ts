/**
 * The gate between the agent's reads and the inbox cache's background batches (src/services/inbox-foreground.ts):
 * a batch waits for a pause in a burst of short reads, not for a long one, and never past its bound. Fake timers,
 * because what is asserted is when idle() resolves relative to the reads, in milliseconds of (fake) time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ForegroundGate } from '../../src/services/inbox-foreground.js';

/** A read that ends when `end` is called. */
function openRead(gate: ForegroundGate): { done: Promise<void>; end: () => void } {
  let end!: () => void;
  const finished = new Promise<void>((r) => (end = r));
  return { done: gate.run(() => finished), end };
}

/** Whether the promise has settled, after letting pending microtasks run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let yes = false;
  void p.then(() => (yes = true));
  await vi.advanceTimersByTimeAsync(0);
  return yes;
}

describe('ForegroundGate', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('lets a batch start at once when the agent has been quiet', async () => {
    const gate = new ForegroundGate();
    await vi.advanceTimersByTimeAsync(1000);
    expect(await settled(gate.idle())).toBe(true);
  });

  it('holds a batch through a short read and the pause after it, then lets it start', async () => {
    const gate = new ForegroundGate();
    await vi.advanceTimersByTimeAsync(1000);
    const read = openRead(gate);
    const idle = gate.idle();
    await vi.advanceTimersByTimeAsync(50);
    expect(await settled(idle)).toBe(false);
    read.end();
    await read.done;
    // Right after a read another of the same burst is likely: the batch waits for a pause.
    await vi.advanceTimersByTimeAsync(100);
    expect(await settled(idle)).toBe(false);
    await vi.advanceTimersByTimeAsync(60);
    expect(await settled(idle)).toBe(true);
  });

  it('does not hold a batch behind a long read (one waiting on the server)', async () => {
    const gate = new ForegroundGate();
    await vi.advanceTimersByTimeAsync(1000);
    const read = openRead(gate);
    const idle = gate.idle();
    // A first listing of a never-synced folder takes up to a second: the batch waits for it.
    await vi.advanceTimersByTimeAsync(950);
    expect(await settled(idle)).toBe(false);
    await vi.advanceTimersByTimeAsync(60);
    expect(await settled(idle)).toBe(true);
    read.end();
    await read.done;
  });

  it('lets a batch through within two seconds of an agent that never pauses', async () => {
    const gate = new ForegroundGate();
    const idle = gate.idle();
    let elapsed = 0;
    // Reads of 5 ms back to back: no pause ever reaches the quiet period, and none is long.
    while (!(await settled(idle))) {
      const read = openRead(gate);
      await vi.advanceTimersByTimeAsync(5);
      read.end();
      await read.done;
      elapsed += 5;
      expect(elapsed).toBeLessThanOrEqual(2005);
    }
    expect(elapsed).toBeGreaterThanOrEqual(1995);
  });
});
