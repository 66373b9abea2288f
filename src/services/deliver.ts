/**
 * Delivery worker (the outbox): claims approved and queued messages with a lease, delivers them outside any
 * transaction, and records the outcome. Every claim is a compare-and-set, so any number of processes on one
 * database can run workers and none will deliver a message twice. It also expires held mail and recovers
 * leases left by processes that died.
 */
import { faultPoint } from '../faults.js';
import { approvalMismatch } from '../gate/approval-binding.js';
import { log } from '../log.js';
import { DeliveryError, type Sender, type TransportRegistry } from '../mail/ports.js';
import { applyTagAction } from './inbox-cache.js';
import { hostname } from 'node:os';
import { randomToken } from '../ids.js';
import { ownerIsDead } from '../lease.js';
import type { ActionOutcome, DeliveryOutcome, Mailbox, MailboxAction, OutboundMessage, Store } from '../store/store.js';

export interface WorkerOptions {
  leaseMs?: number;
  pollMs?: number;
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to maxBackoffMs. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Consecutive transient failures of one mailbox after which its deliveries wait as a whole (the breaker). */
  breakerThreshold?: number;
  /** Waits between tries of recording an outcome that failed to write (disk full, busy), before the lease is released. */
  recordRetryMs?: readonly number[];
}

export class DeliveryWorker {
  /** host:pid:random, so a restarted process on the same host can tell that an old lease's owner is dead. */
  readonly owner = `${hostname()}:${process.pid}:${randomToken(6)}`;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  readonly opts: Required<WorkerOptions>;

  constructor(
    private readonly store: Store,
    private readonly transports: TransportRegistry,
    private readonly clock: () => number,
    opts: WorkerOptions = {},
    /** Called after each recorded outcome. */
    private readonly onOutcome: () => void = () => undefined,
  ) {
    this.opts = {
      leaseMs: 300_000,
      pollMs: 1000,
      maxAttempts: 8,
      baseBackoffMs: 30_000,
      maxBackoffMs: 3_600_000,
      breakerThreshold: 5,
      recordRetryMs: [50, 250, 1000],
      ...opts,
    };
  }

  start(): void {
    if (this.timer) return;
    // Leases held by processes on this host that no longer exist are released now rather than after the
    // lease time, so mail a killed server was delivering is recovered as soon as any server starts.
    void this.store
      .abandonLeases(ownerIsDead, this.clock())
      .then((n) => {
        if (n) log('info', 'released delivery leases of dead processes', { count: n });
        return this.tick();
      })
      .catch((err: unknown) => log('warn', 'could not release dead leases', { error: String(err) }));
    this.timer = setInterval(() => void this.tick(), this.opts.pollMs);
    this.timer.unref();
  }

  /**
   * Looks for work (another instance queued or approved mail) now or after `afterMs`; ignored unless started, as
   * the poll is. Wake-ups due while one is pending share it.
   */
  wake(afterMs = 0): void {
    if (!this.timer) return;
    if (afterMs <= 0) {
      void this.tick();
      return;
    }
    this.waking ??= setTimeout(() => {
      this.waking = undefined;
      this.wake();
    }, afterMs);
    this.waking.unref();
  }

  private waking: NodeJS.Timeout | undefined;
  async stop(): Promise<void> {
    clearTimeout(this.waking);
    this.waking = undefined;
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
      for (let i = 0, n = 100; i < 10 && n === 100; i++, expired += n) n = (await this.store.expireDueActions(now, 100)).length;
      if (expired) log('info', 'expired held messages and actions', { count: expired });
      const mailboxes = new Map((await this.store.listMailboxes()).map((mb) => [mb.address, mb]));
      // Only mailboxes this process holds the account for: a CLI without the config file must not claim
      // (and burn attempts on) mail it cannot reach; the server that has the account delivers it.
      const servable = [...mailboxes.values()].filter((mb) => this.transports.canServe(mb)).map((mb) => mb.address);
      for (const address of servable) await this.resumeIfReconfigured(mailboxes.get(address)!, now);
      // A lease that ran out means a process died mid-delivery. Retrying is safe only where a second send is
      // harmless (the sandbox dedupes); for SMTP the outcome is unknown and a human must look.
      await this.store.recoverLeases(now, (m) => {
        const mb = mailboxes.get(m.mailbox);
        const idempotent = !!mb && this.transports.canServe(mb) && this.transports.forMailbox(mb).sender.idempotent;
        return m.transmitting_at === null || idempotent;
      });
      for (;;) {
        const batch = await this.store.claimActions(this.owner, this.clock(), this.opts.leaseMs, 20, servable);
        if (batch.length === 0) break;
        for (const a of batch) await this.apply(a, mailboxes.get(a.mailbox));
      }
      // One message per claim: a batch would let one instance hold mail others could be sending, and strand the
      // rest of it for a whole lease when the instance dies. A claim is a short transaction; a send costs far more.
      for (;;) {
        const [m] = await this.store.claimForDelivery(this.owner, this.clock(), this.opts.leaseMs, 1, servable);
        if (!m) break;
        await this.deliver(m);
      }
    } catch (err) {
      log('error', 'delivery pass failed; will retry on the next tick', { error: String(err) });
    }
  }

  /**
   * A mailbox paused for its configuration resumes once the account's settings differ from those it was
   * paused with (this process was started with a changed config or secret); an unchanged one stays paused.
   */
  private async resumeIfReconfigured(mb: Mailbox, now: number): Promise<void> {
    if (mb.delivery_paused_at == null || !mb.delivery_paused_digest) return;
    const sender = this.transports.forMailbox(mb).sender;
    const [salt, digest] = mb.delivery_paused_digest.split(':');
    if (!sender.settingsDigest || !salt || sender.settingsDigest(salt) === digest) return;
    if (await this.store.resumeDeliveries(mb.address, 'system:config', 'the smtp settings changed since the pause', now)) {
      log('info', 'mailbox deliveries resumed: its smtp settings changed', { mailbox: mb.address });
    }
  }

  /** Delivers a message this worker claimed (a pass, or a send's own message: deliver-inline.ts). */
  async deliver(m: OutboundMessage): Promise<void> {
    const run = { tried: false, charged: false };
    const outcome = await this.attempt(m, run);
    // An attempt is a transmission tried: counted at MAIL FROM (run.charged) or, for transports without one,
    // here. A paused or refused delivery never tried the server, and a crash before MAIL FROM is never charged.
    const charge = run.tried && !run.charged && outcome.kind !== 'paused' && outcome.kind !== 'refused';
    const recorded = await this.record(m, outcome, charge);
    if (recorded === 'unrecorded') return;
    faultPoint('after_record');
    this.onOutcome();
    if (!recorded) log('warn', 'delivery lease was lost before the outcome was recorded', { message_id: m.message_id });
    else log('info', 'delivery outcome', { message_id: m.message_id, status: recorded.status });
  }

  /**
   * Records an outcome, retrying the write briefly (a busy database or a disk that frees up); if it still
   * fails, the lease is released at once rather than held until it runs out, so the next pass of any worker
   * recovers the message: requeued if nothing was transmitted, outcome_unknown if the final dot went out
   * (never sent twice).
   */
  private async record(m: OutboundMessage, outcome: DeliveryOutcome, charge: boolean): Promise<OutboundMessage | undefined | 'unrecorded'> {
    let failure: unknown;
    for (const wait of [0, ...this.opts.recordRetryMs]) {
      if (wait) await new Promise((r) => setTimeout(r, wait));
      try {
        return await this.store.recordOutcome(m.message_id, this.owner, outcome, this.clock(), { charge });
      } catch (err) {
        failure = err;
      }
    }
    const released = await this.store.releaseLease(m.message_id, this.owner, this.clock()).catch(() => false);
    log('error', 'could not record a delivery outcome; the lease was released so the next pass recovers the message', {
      message_id: m.message_id,
      outcome: outcome.kind,
      ...('detail' in outcome && typeof outcome.detail.response === 'string' ? { response: outcome.detail.response.slice(0, 300) } : {}),
      error: String(failure),
      lease_released: released,
    });
    return 'unrecorded';
  }

  /**
   * Applies an approved mailbox action (flags, move) through the mail port. A server refusal is final: recorded
   * as failed with the server's reason, never as applied; an unreachable server is retried with the same backoff.
   */
  private async apply(a: MailboxAction, mb: Mailbox | undefined): Promise<void> {
    let outcome: ActionOutcome;
    try {
      if (!mb) throw new DeliveryError(`mailbox ${a.mailbox} no longer exists`, 'permanent');
      const tagged = await applyTagAction(this.store, this.clock, this.transports.forMailbox(mb), a.action);
      outcome = tagged.refused
        ? { kind: 'failed', error: `${tagged.refused.code}: ${tagged.refused.reason}` }
        : { kind: 'applied', result: { added: tagged.added, removed: tagged.removed, moved_to: tagged.moved_to, deleted: tagged.deleted } };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      const attempts = a.attempts + 1;
      const final = (err instanceof DeliveryError && err.kind === 'permanent') || attempts >= this.opts.maxAttempts;
      outcome = final
        ? { kind: 'failed', error: attempts >= this.opts.maxAttempts ? `gave up after ${attempts} attempts: ${error}` : error }
        : { kind: 'retry', error, next_attempt_at: this.clock() + Math.min(this.opts.baseBackoffMs * 2 ** (attempts - 1), this.opts.maxBackoffMs) };
    }
    const recorded = await this.store
      .recordActionOutcome(a.action_id, this.owner, outcome, this.clock())
      .catch((err: unknown) =>
        log('error', 'could not record a mailbox action outcome; its lease runs out and it is applied again', { action_id: a.action_id, error: String(err) }),
      );
    this.onOutcome();
    if (recorded) log('info', 'mailbox action outcome', { action_id: a.action_id, status: recorded.status });
  }

  private async attempt(m: OutboundMessage, run: { tried: boolean; charged: boolean }): Promise<DeliveryOutcome> {
    let mailbox: Mailbox | undefined;
    let sender: Sender | undefined;
    try {
      mailbox = await this.store.getMailbox(m.mailbox);
      if (!mailbox) return { kind: 'failed', error: `mailbox ${m.mailbox} no longer exists` };
      const transport = this.transports.forMailbox(mailbox);
      sender = transport.sender;
      const files = m.attachments.length ? await this.store.loadAttachments(m.message_id) : [];
      const refusal = approvalMismatch(m, files);
      if (refusal) return { kind: 'refused', error: refusal };
      faultPoint('after_claim');
      run.tried = true;
      const receipt = await transport.sender.send(
        { ...m, files },
        {
          beforeMailFrom: async () => {
            if (run.charged) return; // a stale pooled connection retried on a fresh one: still one attempt
            await this.store.chargeAttempt(m.message_id, this.owner, this.clock());
            run.charged = true;
          },
          beforeFinalDot: async () => {
            faultPoint('before_final_dot');
            await this.store.markTransmitting(m.message_id, this.owner, this.clock());
            faultPoint('after_final_dot');
          },
        },
      );
      faultPoint('after_accept');
      return { kind: 'sent', detail: { accepted: receipt.accepted, captured: receipt.captured, ...receipt.detail } };
    } catch (err) {
      const kind = err instanceof DeliveryError ? err.kind : 'transient';
      const error = err instanceof Error ? err.message : String(err);
      if (kind === 'permanent') return { kind: 'failed', error, bounced: err instanceof DeliveryError ? err.bounced : [] };
      if (kind === 'unknown_outcome') return { kind: 'unknown', error };
      if (kind === 'config') return pausedOutcome(m.mailbox, sender, error);
      const attempts = m.attempts + (run.tried ? 1 : 0);
      if (attempts >= this.opts.maxAttempts) return { kind: 'failed', error: `gave up after ${attempts} attempts: ${error}` };
      const backoff = (n: number) => Math.min(this.opts.baseBackoffMs * 2 ** Math.max(n - 1, 0), this.opts.maxBackoffMs);
      // The breaker: a server that keeps deferring gets the mailbox's whole queue backed off, not each message in turn.
      const failures = (mailbox?.delivery_failures ?? 0) + (run.tried ? 1 : 0);
      const open = run.tried && failures >= this.opts.breakerThreshold;
      const hold = open ? this.clock() + backoff(failures - this.opts.breakerThreshold + 1) : null;
      if (open) log('warn', 'mailbox deliveries held back after repeated transient failures', { mailbox: m.mailbox, failures, until: hold });
      return { kind: 'retry', error, next_attempt_at: this.clock() + backoff(attempts), hold_mailbox_until: hold };
    }
  }
}

/** The outcome of an authentication or TLS failure: the mailbox pauses; the message waits for the fix. */
function pausedOutcome(mailbox: string, sender: Sender | undefined, error: string): DeliveryOutcome {
  const salt = randomToken(8);
  return {
    kind: 'paused',
    error,
    hint:
      `deliveries from ${mailbox} are paused: fix its smtp settings in the config (the user and the password or its ` +
      `password_env variable, tls.ca_file, host, port) and restart mailgate, or run 'mailgate mailbox resume ${mailbox}' once ` +
      'the server side is fixed; queued mail stays queued until then',
    settings_digest: sender?.settingsDigest ? `${salt}:${sender.settingsDigest(salt)}` : null,
  };
}
