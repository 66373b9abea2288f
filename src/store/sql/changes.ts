/**
 * Change signals (SqlTx.notify, SqlDriver.listen) shared by both drivers: the set of listeners and how a committed
 * transaction's signals reach them, and the NOTIFY payload PostgreSQL carries them in between instances.
 */
import type { Change } from './types.js';

export type Signal = Omit<Change, 'local'>;

interface Subscription {
  fn: (c: Change) => void;
  /** The driver that subscribed: a change it made itself reaches it as `local`. */
  driver: object;
}

/** One PostgreSQL channel for every signal: a listener hears all of them and picks the topics it wants. */
export const CHANNEL = 'mailgate';
/** NOTIFY refuses payloads of 8000 bytes and more. */
const MAX_PAYLOAD = 7900;

/** The signals of one transaction, each (topic, mailbox) once, in the order first given. */
export function uniqueSignals(signals: readonly Signal[]): Signal[] {
  const seen = new Map<string, Signal>();
  for (const s of signals) seen.set(`${s.topic}\u0000${s.mailbox ?? ''}`, s);
  return [...seen.values()];
}

/**
 * The listeners of one database (SQLite: a file, shared by every store this process has on it; PostgreSQL: a
 * driver, whose LISTEN connection brings the other instances' signals).
 */
export class ChangeHub {
  private readonly subscriptions = new Set<Subscription>();

  add(driver: object, fn: (c: Change) => void): () => void {
    const s = { fn, driver };
    this.subscriptions.add(s);
    return () => this.subscriptions.delete(s);
  }

  /**
   * Hands committed signals to the listeners after the current task, as afterCommit does, so a listener that
   * reads the database sees the commit and a throwing one cannot fail the caller's transaction.
   */
  deliver(signals: readonly Signal[], from: object | null): void {
    if (signals.length === 0) return;
    queueMicrotask(() => {
      for (const s of [...this.subscriptions]) {
        for (const signal of signals) s.fn({ ...signal, local: s.driver === from });
      }
    });
  }
}

/** The NOTIFY payload: who sent it (so an instance skips its own, which it delivered locally) and what changed. */
export function encodeSignals(sender: string, signals: readonly Signal[]): string {
  const full = JSON.stringify({ from: sender, changes: signals.map((s) => [s.topic, s.mailbox]) });
  if (full.length <= MAX_PAYLOAD) return full;
  // Too many mailboxes for one payload (a large expiry batch): the topics alone, for every mailbox.
  const topics = [...new Set(signals.map((s) => s.topic))];
  return JSON.stringify({ from: sender, changes: topics.map((t) => [t, null]) });
}

/** The sender and signals of a payload; null for one this code did not write (another tool on the channel). */
export function decodeSignals(payload: string | undefined): { from: string; signals: Signal[] } | null {
  try {
    const p = JSON.parse(payload ?? '') as { from?: unknown; changes?: unknown };
    if (typeof p.from !== 'string' || !Array.isArray(p.changes)) return null;
    const signals = p.changes
      .filter((c): c is [string, string | null] => Array.isArray(c) && typeof c[0] === 'string' && (typeof c[1] === 'string' || c[1] === null))
      .map(([topic, mailbox]) => ({ topic, mailbox }));
    return { from: p.from, signals };
  } catch {
    return null;
  }
}
