/**
 * What both drivers' transactions keep beside their statements: callbacks for after the COMMIT, steps for just
 * before it, and change signals. One class, so the two cannot drift in what a read (no transaction) refuses.
 */
import type { Signal } from './changes.js';

export abstract class TxHooks {
  readonly committed: (() => void)[] = [];
  readonly ending: (() => Promise<void>)[] = [];
  readonly signals: Signal[] = [];

  constructor(
    readonly owner: object,
    protected readonly inTransaction: boolean,
  ) {}

  afterCommit(fn: () => void) {
    this.committed.push(fn);
  }

  beforeCommit(fn: () => Promise<void>) {
    if (!this.inTransaction) throw new Error('beforeCommit needs a transaction (driver.tx), not driver.read');
    this.ending.push(fn);
  }

  notify(topic: string, mailbox: string | null) {
    // Outside a transaction there is no commit to wait for: a signal sent there could precede the change it reports.
    if (!this.inTransaction) throw new Error(`notify('${topic}') needs a transaction (driver.tx), not driver.read`);
    this.signals.push({ topic, mailbox });
  }
}
