/**
 * The webhook dispatcher: claims due deliveries from the outbox with a lease (compare-and-set, so two
 * processes never POST one delivery at once), POSTs each outside any transaction, and records the result.
 *
 * Delivery is at least once: a process that dies after the receiver answered and before the result is
 * recorded leaves a lease that runs out, and the delivery is sent again with the same `webhook-id`.
 * Receivers de-duplicate on that id (Standard Webhooks asks them to).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { faultPoint } from '../faults.js';
import { log } from '../log.js';
import { newLeaseOwner, ownerIsDead } from '../lease.js';
import type { DueWebhookDelivery, Store, WebhookAttemptOutcome } from '../store/store.js';
import { checkAddress, checkHost, ipLiteral, refusal } from './address.js';
import { signatureHeaders } from './sign.js';

/** Resolves a host name to all its addresses, as dns.lookup with `all: true` does. */
type Resolver = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses)));
  });

export interface DispatcherOptions {
  /** How often to look for due deliveries (retries come due between in-process wake-ups). */
  pollMs?: number;
  /** How long a claim is held; longer than timeoutMs, so a live attempt is never claimed twice. */
  leaseMs?: number;
  /** Per-request timeout: no response within it counts as a failed attempt. */
  timeoutMs?: number;
  /** The first retry delay; later ones are RETRY_SCHEDULE multiples of it. */
  retryBaseMs?: number;
  /** How host names are resolved; the system's dns.lookup unless a test substitutes one. */
  resolve?: Resolver;
}

/**
 * Retry delays in multiples of retryBaseMs (5 s by default): 5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h,
 * 8 h, 8 h. Eleven attempts over about 23.7 hours, a schedule like Svix's and Resend's published ones
 * (the figures are pinned by test/webhooks/sign.test.ts),
 * so a receiver that is down for most of a day still gets everything.
 */
export const RETRY_SCHEDULE = [1, 6, 24, 120, 360, 720, 1440, 2880, 5760, 5760] as const;
export const MAX_ATTEMPTS = RETRY_SCHEDULE.length + 1;
const USER_AGENT = 'mailgate-webhooks';
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
  readonly owner = newLeaseOwner();
  private readonly opts: Required<DispatcherOptions>;
  private timer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private dirty = false;
  private started = false;
  private stopping = false;
  /** Aborted by stop(), so shutting down does not wait out a slow receiver. */
  private readonly shutdown = new AbortController();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number,
    opts: DispatcherOptions = {},
  ) {
    this.opts = { pollMs: 1000, leaseMs: 60_000, timeoutMs: 10_000, retryBaseMs: 5000, resolve: systemResolver, ...opts };
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    void this.store
      .abandonWebhookLeases(ownerIsDead, this.clock())
      .then((n) => {
        if (n) log('info', 'released webhook leases of dead processes', { count: n });
      })
      .catch((err: unknown) => log('warn', 'could not release dead webhook leases', { error: String(err) }))
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
    else
      log('warn', outcome.kind === 'failed' ? 'webhook delivery failed; giving up' : 'webhook attempt failed; will retry', {
        ...fields,
        error: outcome.error,
        ...(outcome.kind === 'retry' ? { next_attempt_at: new Date(outcome.next_attempt_at).toISOString() } : {}),
      });
  }

  private async attempt(d: DueWebhookDelivery): Promise<WebhookAttemptOutcome> {
    // The timestamp is this attempt's, so a retry hours later is not refused as a replay by the receiver.
    const timestamp = Math.floor(this.clock() / 1000);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = AbortSignal.any([timeout, this.shutdown.signal]);
    try {
      const url = new URL(d.url);
      const targets = await this.pin(url, d.allow_private_network, signal);
      if ('refused' in targets) return this.failure(d, null, targets.refused);
      const status = await post(url, targets, d.payload, signal, {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        ...signatureHeaders(d.secrets, d.event_id, timestamp, d.payload),
      });
      if (status >= 200 && status < 300) return { kind: 'delivered', status };
      return this.failure(d, status, status >= 300 && status < 400 ? `HTTP ${status} redirect (not followed)` : `HTTP ${status}`);
    } catch (err) {
      return this.failure(d, null, timeout.aborted ? `no response within ${this.opts.timeoutMs} ms` : this.describe(err));
    }
  }

  /**
   * The addresses this attempt may connect to. A name is resolved once, here, and refused if ANY of its
   * addresses is forbidden (a name that answers both public and private cannot pick its moment); the request
   * then connects only to these checked addresses, so a DNS answer that changes between check and connect
   * (rebinding) has nothing to act on. Checked again on every attempt: a name's addresses may change.
   */
  private async pin(url: URL, allowPrivate: boolean, signal: AbortSignal): Promise<LookupAddress[] | { refused: string }> {
    const host = url.hostname;
    const why = refusal(checkHost(host), allowPrivate);
    if (why) return { refused: `refused: the URL points at ${why}` };
    const ip = ipLiteral(host);
    if (ip) return [{ address: ip, family: ip.includes(':') ? 6 : 4 }];
    const addresses = await abortable(this.opts.resolve(host), signal);
    if (addresses.length === 0) return { refused: `${host} resolved to no address` };
    for (const a of addresses) {
      const why = refusal(checkAddress(a.address), allowPrivate);
      if (why) return { refused: `refused: ${host} resolves to ${why}` };
    }
    return addresses;
  }

  private failure(d: DueWebhookDelivery, status: number | null, error: string): WebhookAttemptOutcome {
    // Interrupted by our own shutdown: due again at once, for whichever process runs next.
    if (this.shutdown.signal.aborted) return { kind: 'retry', status, error: 'interrupted: mailgate was stopping', next_attempt_at: this.clock() };
    const delay = retryDelay(d.attempt, this.opts.retryBaseMs);
    if (delay === null) return { kind: 'failed', status, error: `gave up after ${d.attempt} attempts: ${error}` };
    return { kind: 'retry', status, error, next_attempt_at: this.clock() + delay };
  }

  /** A short cause (connection refused, TLS problem, unknown host): a code, never a URL or a header. */
  private describe(err: unknown): string {
    const e = err as { code?: string; message?: string };
    return String(e?.code ?? e?.message ?? err).slice(0, 200);
  }
}

/** `p`, or a rejection as soon as `signal` aborts (a lookup cannot be cancelled, only no longer waited for). */
function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * One POST to `url`, connected to the checked `targets` whatever the name resolves to by then: node's `lookup`
 * hook hands the socket those addresses (all of them when it tries several, as with autoSelectFamily), while
 * the Host header and the TLS server name (SNI and certificate check) stay the URL's. No agent, so no pooled socket is shared between endpoints with different allowances.
 * Redirects are never followed; the response body is never read.
 */
function post(url: URL, targets: LookupAddress[], body: string, signal: AbortSignal, headers: Record<string, string>): Promise<number> {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        signal,
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: (_host, opts, cb) => {
          if (opts.all) (cb as (e: null, a: LookupAddress[]) => void)(null, targets);
          else cb(null, targets[0]!.address, targets[0]!.family);
        },
      },
      (res) => {
        res.destroy();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
