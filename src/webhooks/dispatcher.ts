/**
 * The webhook dispatcher: claims due deliveries from the outbox with a lease (compare-and-set, so two
 * processes never POST one delivery at once), POSTs each outside any transaction, and records the result.
 *
 * Delivery is at least once: a process that dies after the receiver answered and before the result is
 * recorded leaves a lease that runs out, and the delivery is sent again with the same `webhook-id`.
 * Receivers de-duplicate on that id (Standard Webhooks asks them to).
 */
import { hostname } from 'node:os';
import { faultPoint } from '../faults.js';
import { randomToken } from '../ids.js';
import { log } from '../log.js';
import { ownerIsDead } from '../services/deliver.js';
import type { DueWebhookDelivery, Store, WebhookAttemptOutcome } from '../store/store.js';
import { signatureHeaders } from './sign.js';

export interface DispatcherOptions {
  /** How often to look for due deliveries (retries come due between in-process wake-ups). */
  pollMs?: number;
  /** How long a claim is held; longer than timeoutMs, so a live attempt is never claimed twice. */
  leaseMs?: number;
  /** Per-request timeout: no response within it counts as a failed attempt. */
  timeoutMs?: number;
  /** The first retry delay; later ones are RETRY_SCHEDULE multiples of it. */
  retryBaseMs?: number;
}

/**
 * Retry delays in multiples of retryBaseMs (5 s by default): 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h,
 * 8 h, 8 h. Eleven attempts over about 23.7 hours, a schedule like Svix's and Resend's (research/reliability.md),
 * so a receiver that is down for most of a day still gets everything.
 */
export const RETRY_SCHEDULE = [1, 6, 24, 120, 360, 720, 1440, 2880, 5760, 5760] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE.length + 1;
export const USER_AGENT = 'mailgate-webhooks';
const BATCH = 20;

/** The wait after failed attempt number `attempt` (from 1), or null when that was the last one. */
export function retryDelay(attempt: number, baseMs: number, random: () => number = Math.random): number | null {
  const step = RETRY_SCHEDULE[attempt - 1];
  if (step === undefined) return null;
  // ±20 % jitter: deliveries that failed together (a receiver that was down) do not come back as one wave.
  return Math.round(step * baseMs * (0.8 + 0.4 * random()));
}

export class WebhookDispatcher {
  /** host:pid:random, like the delivery worker's, so leases of a dead process on this host can be released. */
  readonly owner = `${hostname()}:${process.pid}:${randomToken(6)}`;
  private readonly opts: Required<DispatcherOptions>;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private dirty = false;
  private started = false;
  private stopping = false;
  /** Aborted by stop(), so shutting down does not wait out a slow receiver. */
  private readonly shutdown = new AbortController();

  constructor(private readonly store: Store, private readonly clock: () => number, opts: DispatcherOptions = {}) {
    this.opts = { pollMs: 1000, leaseMs: 60_000, timeoutMs: 10_000, retryBaseMs: 5000, ...opts };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.store.abandonWebhookLeases(ownerIsDead, this.clock()).then((n) => {
      if (n) log('info', 'released webhook leases of dead processes', { count: n });
    }).catch((err: unknown) => log('warn', 'could not release dead webhook leases', { error: String(err) }))
      .finally(() => this.wake());
    this.timer = setInterval(() => this.wake(), this.opts.pollMs);
    this.timer.unref();
  }

  /** Look for work now (an event was queued in this process). Ignored unless started. */
  wake(): void {
    if (this.started && !this.stopping) void this.tick();
  }

  /**
   * Drains everything due. A call while a drain runs makes it go round once more, so work committed just
   * after its last claim is still sent before the returned promise resolves.
   */
  tick(): Promise<void> {
    this.dirty = true;
    this.loop ??= this.drain();
    return this.loop;
  }

  /**
   * Stops polling, lets requests in flight finish for a short grace period (each one cut off would be sent
   * again later, as a duplicate the receiver has to drop), then aborts the rest.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((r) => (grace = setTimeout(r, graceMs)))]);
    clearTimeout(grace);
    this.shutdown.abort();
    await this.loop;
  }

  private async drain(): Promise<void> {
    try {
      while (this.dirty && !this.stopping) {
        this.dirty = false;
        await this.pass();
      }
    } finally {
      // Cleared in the same synchronous step as the last check of `dirty`, so no tick() can slip between.
      this.loop = undefined;
    }
  }

  private async pass(): Promise<void> {
    try {
      for (;;) {
        if (this.stopping) return;
        const batch = await this.store.claimWebhookDeliveries(this.owner, this.clock(), this.opts.leaseMs, BATCH);
        if (batch.length === 0) return;
        await Promise.all(batch.map((d) => this.deliver(d)));
      }
    } catch (err) {
      log('error', 'webhook pass failed; will retry on the next poll', { error: String(err) });
    }
  }

  private async deliver(d: DueWebhookDelivery): Promise<void> {
    const outcome = await this.attempt(d);
    if (outcome.kind === 'delivered') faultPoint('webhook_after_post');
    const recorded = await this.store.recordWebhookAttempt(d, this.owner, outcome, this.clock());
    // Ids only: the URL may carry a token in its query, and the secret never reaches a log.
    const fields = { event_id: d.event_id, endpoint_id: d.endpoint_id, type: d.type, attempt: d.attempt, status: outcome.status };
    if (!recorded) log('warn', 'webhook lease was lost before the result was recorded', fields);
    else if (outcome.kind === 'delivered') log('info', 'webhook delivered', fields);
    else log('warn', outcome.kind === 'failed' ? 'webhook delivery failed; giving up' : 'webhook attempt failed; will retry',
      { ...fields, error: outcome.error, ...(outcome.kind === 'retry' ? { next_attempt_at: new Date(outcome.next_attempt_at).toISOString() } : {}) });
  }

  private async attempt(d: DueWebhookDelivery): Promise<WebhookAttemptOutcome> {
    // The timestamp is this attempt's, so a retry hours later is not refused as a replay by the receiver.
    const timestamp = Math.floor(this.clock() / 1000);
    try {
      const res = await fetch(d.url, {
        method: 'POST',
        body: d.payload,
        // A 3xx is a failure, never followed: following would let a receiver point mailgate at another host.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.opts.timeoutMs), this.shutdown.signal]),
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...signatureHeaders(d.secrets, d.event_id, timestamp, d.payload) },
      });
      // The response body is never read or kept: only the status matters, and a body could hold anything.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { kind: 'delivered', status: res.status };
      return this.failure(d, res.status, res.status >= 300 && res.status < 400 ? `HTTP ${res.status} redirect (not followed)` : `HTTP ${res.status}`);
    } catch (err) {
      return this.failure(d, null, this.describe(err));
    }
  }

  private failure(d: DueWebhookDelivery, status: number | null, error: string): WebhookAttemptOutcome {
    // Interrupted by our own shutdown: due again at once, for whichever process runs next.
    if (this.shutdown.signal.aborted) return { kind: 'retry', status, error: 'interrupted: mailgate was stopping', next_attempt_at: this.clock() };
    const delay = retryDelay(d.attempt, this.opts.retryBaseMs);
    if (delay === null) return { kind: 'failed', status, error: `gave up after ${d.attempt} attempts: ${error}` };
    return { kind: 'retry', status, error, next_attempt_at: this.clock() + delay };
  }

  /** A short cause (timeout, connection refused, TLS problem); fetch's messages name no URL or header. */
  private describe(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e?.name === 'TimeoutError') return `no response within ${this.opts.timeoutMs} ms`;
    const cause = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
    return String(cause).slice(0, 200);
  }
}
