/**
 * V8's heap sizing for a server (`serve`, over stdio or HTTP), set at run time: an MCP client starts the server
 * as `node mailgate.js` or through npx, with no command line of ours to put V8 flags on.
 *
 * Left to its defaults, V8 doubles the young generation (up to 2 x 16 MiB) whenever enough of it survives a
 * scavenge, and lets the old generation grow to about three times what was live at its last full collection
 * before it collects again. A server that fetches, parses and indexes thousands of messages makes mostly
 * short-lived garbage, so both sat at their limits: peak RSS of the bench's 10,000-message session was ~200 MiB,
 * of which ~30 MiB was young generation and ~60 MiB old garbage waiting for a collection (README "Performance").
 * Keeping the young generation from growing and collecting the old one at 1.5x its live size took the peak to
 * ~110-120 MiB, with the index built in the same time. They are set once the server is up: start-up's own
 * allocations (module code, schemas) live as long as the process, and pinning the young generation during them
 * only added scavenges (~8 ms more to answer tools/list).
 *
 * Both flags are read by V8's heap heuristics each time they run (NewSpace::Grow, the heap controller's growing
 * factor), so setting them after start-up takes effect; they change when V8 collects, never what a program sees.
 * On V8's own command line a growth factor below 2 is raised to 2 when V8 starts, so `node
 * --semi-space-growth-factor=1` would do nothing: set at run time, 1 holds (test/e2e/server-heap.test.ts checks
 * that it still does). A V8 that does not know a flag prints a line on stderr (never stdout) and keeps its default.
 */
import { setFlagsFromString } from 'node:v8';

export const SERVER_HEAP_FLAGS = ['--semi-space-growth-factor=1', '--heap-growing-percent=50'] as const;

export function tuneHeapForServer(): void {
  for (const flag of SERVER_HEAP_FLAGS) {
    try {
      setFlagsFromString(flag);
    } catch {
      // A V8 that refuses flags after start-up: the server runs with its defaults, as it would have.
    }
  }
}
