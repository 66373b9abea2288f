/**
 * The agent's reads before the inbox cache's background work (inbox-cache.ts): the envelope backfill and the body
 * prefetch parse what they fetch and write it to the store on the same event loop as the reads, and the store runs
 * one operation at a time, so a batch running when a read comes in delays it. The gate keeps batches out of the way.
 */

/** How long after the agent's last read the background batches resume: its calls come in bursts. */
const QUIET_MS = 150;
/**
 * A read running this long is waiting on the server (a server-side search of a 100k folder takes seconds): batches
 * need not wait for it. Longer than a first listing of a never-synced folder, which the backfill would slow down.
 */
const LONG_READ_MS = 1000;
/** The longest a background batch waits for a pause. */
const MAX_DEFER_MS = 2000;

export class ForegroundGate {
  /** Foreground reads running now. */
  private busy = 0;
  private waiters: (() => void)[] = [];
  /** When the last foreground read ended, and when the reads running now began (performance.now()). */
  private lastEnded = 0;
  private busySince = 0;

  /** Runs a foreground read; background batches do not start while one runs, nor within QUIET_MS after. */
  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.busy++ === 0) this.busySince = performance.now();
    try {
      return await read();
    } finally {
      this.lastEnded = performance.now();
      if (--this.busy === 0) for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /**
   * Resolves when no foreground read runs and none has ended for QUIET_MS: a batch started in the gap between two
   * calls of a burst would delay the second. Bounded: a long read (a server-side search of a 100k folder takes
   * seconds, mostly waiting on the server) does not hold batches up past LONG_READ_MS, and an agent polling without
   * pause not past MAX_DEFER_MS, so neither starves the backfill and the index.
   */
  async idle(): Promise<void> {
    const until = performance.now() + MAX_DEFER_MS;
    for (;;) {
      const now = performance.now();
      const quiet = now - this.lastEnded;
      const reading = now - this.busySince;
      if (now >= until || (this.busy === 0 ? quiet >= QUIET_MS : reading >= LONG_READ_MS)) return;
      const wait = Math.min(until - now, this.busy > 0 ? LONG_READ_MS - reading : QUIET_MS - quiet);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        if (this.busy > 0)
          this.waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
      });
    }
  }
}
