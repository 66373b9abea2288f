/**
 * The receiving side of change signals on PostgreSQL: one connection of its own, outside the pool (LISTEN belongs
 * to a session, and a pooled connection goes back to other work), opened when the first listener subscribes.
 * Other instances' NOTIFYs arrive on it; this instance's own are skipped, having been delivered locally at commit.
 *
 * A NOTIFY sent while the connection is down is lost for good: the server queues notifications only for sessions
 * listening when they commit. So the connection reconnects with capped backoff when it drops (server restart,
 * pg_terminate_backend, a network cut the heartbeat notices), and every connection, the first included, is followed
 * by a `resync` signal: listeners look at everything again, as their polls would, and nothing waits for a poll.
 */
import pg from 'pg';
import { log } from '../../log.js';
import { CHANNEL, type ChangeHub, decodeSignals } from './changes.js';

export interface ListenerOptions {
  /** How often the idle connection is checked with a query: a silently cut one sends no error. */
  heartbeatMs?: number;
  /** The longest wait between reconnection attempts (they start at 100 ms and double). */
  maxBackoffMs?: number;
}

export class PgListener {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;
  private readonly opts: Required<ListenerOptions>;

  constructor(
    private readonly config: pg.ClientConfig,
    /** This driver's id in NOTIFY payloads, so its own signals are not delivered twice. */
    private readonly self: string,
    private readonly hub: ChangeHub,
    /** A failure as a message without the password (the driver's translate). */
    private readonly describe: (err: unknown) => string,
    opts: ListenerOptions = {},
  ) {
    this.opts = { heartbeatMs: 30_000, maxBackoffMs: 5_000, ...opts };
  }

  /** Connects unless connected, connecting or waiting to retry. */
  start(): void {
    if (this.stopped || this.client || this.connecting || this.retry) return;
    this.connecting = this.open()
      .then(
        () => {
          this.failures = 0;
        },
        (err: unknown) => {
          this.failures++;
          log('warn', 'cannot listen for changes from other instances; retrying', { error: this.describe(err), attempt: this.failures });
          this.schedule();
        },
      )
      .finally(() => (this.connecting = undefined));
    this.heartbeat ??= setInterval(() => void this.check(), this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async open(): Promise<void> {
    const client = new pg.Client(this.config);
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, undefined));
    client.on('notification', (n) => this.receive(n));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      void client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.hub.deliver([{ topic: 'resync', mailbox: null }], null);
  }

  private receive(n: pg.Notification): void {
    if (n.channel !== CHANNEL) return;
    const decoded = decodeSignals(n.payload);
    if (decoded && decoded.from !== this.self) this.hub.deliver(decoded.signals, null);
  }

  /** The connection failed or ended: forget it and reconnect (unless closing, or it was already replaced). */
  private lost(client: pg.Client, err: unknown): void {
    if (client !== this.client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    log('warn', 'lost the connection that listens for changes from other instances; reconnecting', err ? { error: this.describe(err) } : {});
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.retry) return;
    const wait = Math.min(100 * 2 ** Math.min(this.failures, 10), this.opts.maxBackoffMs) * (0.5 + Math.random() / 2);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start();
    }, wait);
    this.retry.unref();
  }

  /** A query that gets no answer in time means the connection is gone even if no error said so. */
  private async check(): Promise<void> {
    const client = this.client;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the heartbeat query got no answer')), Math.min(this.opts.heartbeatMs, 10_000));
    });
    try {
      await Promise.race([client.query('SELECT 1'), deadline]);
    } catch (err) {
      this.lost(client, err);
    } finally {
      clearTimeout(timer);
    }
  }
}
