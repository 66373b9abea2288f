/**
 * Delivery worker (the outbox): claims approved and queued messages with a lease, delivers them outside any
 * transaction, and records the outcome. Every claim is a compare-and-set, so any number of processes on one
 * database can run workers and none will deliver a message twice. It also expires held mail and recovers
 * leases left by processes that died.
 */
import { faultPoint } from '../faults.js';
import { log } from '../log.js';
import { DeliveryError, type TransportRegistry } from '../mail/ports.js';
import { hostname } from 'node:os';
import { randomToken } from '../ids.js';
import type { DeliveryOutcome, OutboundMessage, Store } from '../store/store.js';
import { approvalMismatch } from '../store/message-ops.js';

export interface WorkerOptions {
  leaseMs?: number;
  pollMs?: number;
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export class DeliveryWorker {
  /** host:pid:random, so a restarted process on the same host can tell that an old lease's owner is dead. */
  readonly owner = `${hostname()}:${process.pid}:${randomToken(6)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly opts: Required<WorkerOptions>;

  constructor(
    private readonly store: Store,
    private readonly transports: TransportRegistry,
    private readonly clock: () => number,
    opts: WorkerOptions = {},
    /** Called after each recorded outcome. */
    private readonly onOutcome: () => void = () => undefined,
  ) {
    this.opts = { leaseMs: 300_000, pollMs: 1000, maxAttempts: 8, baseBackoffMs: 30_000, maxBackoffMs: 3_600_000, ...opts };
  }

  start(): void {
    if (this.timer) return;
    // Leases held by processes on this host that no longer exist are released now rather than after the
    // lease time, so mail a killed server was delivering is recovered as soon as any server starts.
    void this.store.abandonLeases(ownerIsDead, this.clock()).then((n) => {
      if (n) log('info', 'released delivery leases of dead processes', { count: n });
      return this.tick();
    }).catch((err: unknown) => log('warn', 'could not release dead leases', { error: String(err) }));
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * One pass: expire, recover, claim and deliver. A call that arrives while a pass runs gets one more pass
   * after it (shared by every such caller), so work committed just after the running pass's last claim is
   * still picked up before the caller's promise resolves.
   */
  tick(): Promise<void> {
    if (this.running) {
      this.again ??= this.running.then(() => {
        this.again = undefined;
        return this.tick();
      });
      return this.again;
    }
    this.running = this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private again: Promise<void> | undefined;

  private async pass(): Promise<void> {
    try {
      const now = this.clock();
      // Small batches keep each write transaction short; a backlog drains over a few passes.
      let expired = 0;
      for (let i = 0, n = 100; i < 10 && n === 100; i++, expired += n) n = (await this.store.expireDue(now, 100)).length;
      if (expired) log('info', 'expired held messages', { count: expired });
      const mailboxes = new Map((await this.store.listMailboxes()).map((mb) => [mb.address, mb]));
      // Only mailboxes this process holds the account for: a CLI without the config file must not claim
      // (and burn attempts on) mail it cannot reach; the server that has the account delivers it.
      const servable = [...mailboxes.values()].filter((mb) => this.transports.canServe(mb)).map((mb) => mb.address);
      // A lease that ran out means a process died mid-delivery. Retrying is safe only where a second send is
      // harmless (the sandbox dedupes); for SMTP the outcome is unknown and a human must look.
      await this.store.recoverLeases(now, (m) => {
        const mb = mailboxes.get(m.mailbox);
        const idempotent = !!mb && this.transports.canServe(mb) && this.transports.forMailbox(mb).sender.idempotent;
        return m.kind === 'tag' || m.transmitting_at === null || idempotent;
      });
      for (;;) {
        const batch = await this.store.claimForDelivery(this.owner, this.clock(), this.opts.leaseMs, 20, servable);
        if (batch.length === 0) break;
        for (const m of batch) await this.deliver(m);
      }
    } catch (err) {
      log('error', 'delivery pass failed; will retry on the next tick', { error: String(err) });
    }
  }

  private async deliver(m: OutboundMessage): Promise<void> {
    const outcome = await this.attempt(m);
    const recorded = await this.store.recordOutcome(m.message_id, this.owner, outcome, this.clock());
    faultPoint('after_record');
    this.onOutcome();
    if (!recorded) log('warn', 'delivery lease was lost before the outcome was recorded', { message_id: m.message_id });
    else log('info', 'delivery outcome', { message_id: m.message_id, status: recorded.status });
  }

  private async attempt(m: OutboundMessage): Promise<DeliveryOutcome> {
    try {
      const mailbox = await this.store.getMailbox(m.mailbox);
      if (!mailbox) return { kind: 'failed', error: `mailbox ${m.mailbox} no longer exists` };
      const transport = this.transports.forMailbox(mailbox);
      if (m.kind === 'tag') {
        const refusal = approvalMismatch(m, []);
        if (refusal) return { kind: 'refused', error: refusal };
        await transport.mailbox.applyTag(m.tag_action!);
        return { kind: 'sent', detail: { tag_action: m.tag_action } };
      }
      const files = m.attachments.length ? await this.store.loadAttachments(m.message_id) : [];
      const refusal = approvalMismatch(m, files);
      if (refusal) return { kind: 'refused', error: refusal };
      faultPoint('after_claim');
      const receipt = await transport.sender.send({ ...m, files }, {
        beforeFinalDot: async () => {
          faultPoint('before_final_dot');
          await this.store.markTransmitting(m.message_id, this.owner, this.clock());
          faultPoint('after_final_dot');
        },
      });
      faultPoint('after_accept');
      return { kind: 'sent', detail: { accepted: receipt.accepted, captured: receipt.captured, ...receipt.detail } };
    } catch (err) {
      const kind = err instanceof DeliveryError ? err.kind : 'transient';
      const error = err instanceof Error ? err.message : String(err);
      if (kind === 'permanent') return { kind: 'failed', error, bounced: err instanceof DeliveryError ? err.bounced : [] };
      if (kind === 'unknown_outcome') return { kind: 'unknown', error };
      if (m.attempts >= this.opts.maxAttempts) return { kind: 'failed', error: `gave up after ${m.attempts} attempts: ${error}` };
      const delay = Math.min(this.opts.baseBackoffMs * 2 ** (m.attempts - 1), this.opts.maxBackoffMs);
      return { kind: 'retry', error, next_attempt_at: this.clock() + delay };
    }
  }
}

/** True when the lease owner ran on this host and its process is gone. Owners elsewhere are never judged. */
export function ownerIsDead(owner: string): boolean {
  const [host, pidText] = owner.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
