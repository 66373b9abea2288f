/**
 * Watches INBOX with IMAP IDLE (RFC 2177) on a connection of its own and reports changes. A silently dropped
 * connection sends no FIN and no error: IDLE just goes quiet. So a heartbeat NOOP runs on an interval and a
 * NOOP that gets no answer in time drops the connection; the watcher then reconnects (capped backoff) and
 * reports a change, so the owner resyncs by UID and no mail that arrived meanwhile is missed.
 */
import type { ServerAccount } from '../../config/accounts.js';
import { log } from '../../log.js';
import { ImapConnection, withDeadline } from './connection.js';

export interface WatcherOptions {
  heartbeatMs: number;
  /** How long a heartbeat NOOP may take before the connection is declared dead. */
  noopTimeoutMs?: number;
}

export class InboxWatcher {
  private readonly conn: ImapConnection;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private connected = false;
  private reconnecting: Promise<void> | undefined;

  constructor(
    account: ServerAccount,
    private readonly label: string,
    private readonly onChange: (why: string) => void,
    private readonly opts: WatcherOptions,
  ) {
    // IDLE as soon as the connection is quiet, so new mail is pushed at once.
    this.conn = new ImapConnection(account, `${label} (idle)`, { autoIdleDelayMs: 200, maxBackoffMs: 60_000 });
  }

  /** True while the IDLE connection is up and answered its last heartbeat. */
  get alive(): boolean {
    return this.connected && !this.stopped;
  }

  async start(): Promise<void> {
    if (this.stopped) return; // stopped before it was started (mailbox.ts defers the start)
    await this.connect().catch((err: unknown) => log('warn', 'imap watcher could not connect; will retry', { mailbox: this.label, error: String(err) }));
    this.timer = setInterval(() => void this.heartbeat(), this.opts.heartbeatMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.conn.close();
  }

  private async connect(): Promise<void> {
    const client = await this.conn.get();
    await client.mailboxOpen('INBOX');
    client.on('exists', () => this.onChange('exists'));
    client.on('expunge', () => this.onChange('expunge'));
    client.on('flags', () => this.onChange('flags'));
    client.on('close', () => {
      this.connected = false;
      if (!this.stopped) void this.reconnect('connection closed');
    });
    this.connected = true;
    // Anything that arrived while we were not watching is picked up by the owner's resync.
    this.onChange('connected');
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    if (!this.connected) {
      await this.reconnect('not connected');
      return;
    }
    const timeoutMs = this.opts.noopTimeoutMs ?? Math.max(2000, Math.min(this.opts.heartbeatMs, 30_000));
    try {
      const client = await this.conn.get();
      // The heartbeat's own catch drops the connection, so nothing more to do when the deadline passes.
      await withDeadline(client.noop(), timeoutMs, () => undefined);
    } catch (err) {
      this.connected = false;
      this.conn.drop(`heartbeat NOOP failed: ${String(err)}`);
      this.onChange('heartbeat failed');
      await this.reconnect('heartbeat failed');
    }
  }

  private reconnect(why: string): Promise<void> {
    this.reconnecting ??= (async () => {
      if (this.stopped) return;
      log('info', 'imap watcher reconnecting', { mailbox: this.label, why });
      try {
        await this.connect();
      } catch (err) {
        log('warn', 'imap watcher reconnect failed; will retry', { mailbox: this.label, error: String(err) });
      }
    })().finally(() => (this.reconnecting = undefined));
    return this.reconnecting;
  }
}
