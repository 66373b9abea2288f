/**
 * Live updates over Server-Sent Events. Two sources say "something changed": ctx.changes (this process's
 * deliveries and syncs, at once) and a short poll of the audit head (every hold, decision, delivery and mode
 * change appends an event, whichever process made it). Clients get only a nudge, never data: they refetch
 * the page part they show, through the same signed-in routes.
 */
import type { ServerResponse } from 'node:http';
import { log } from '../log.js';
import { latestAuditSeq } from '../services/audit-log.js';
import type { AppContext } from '../services/context.js';
import { SECURITY_HEADERS } from './http.js';

const HEARTBEAT_MS = 20_000;
const DEBOUNCE_MS = 100;

export class LiveFeed {
  private readonly clients = new Set<ServerResponse>();
  private poller: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private pending: NodeJS.Timeout | undefined;
  private lastSeq = -1;
  private readonly onChange = () => this.nudge();

  constructor(
    private readonly ctx: AppContext,
    private readonly pollMs: number,
  ) {}

  subscribe(res: ServerResponse): void {
    res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    if (this.clients.size === 1) this.start();
  }

  async close(): Promise<void> {
    for (const res of this.clients) res.end();
    this.clients.clear();
    this.stop();
  }

  private start(): void {
    this.ctx.changes.on('change', this.onChange);
    this.poller = setInterval(() => void this.poll(), this.pollMs);
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), HEARTBEAT_MS);
    this.poller.unref();
    this.heartbeat.unref();
    void this.poll();
  }

  private stop(): void {
    this.ctx.changes.off('change', this.onChange);
    clearInterval(this.poller);
    clearInterval(this.heartbeat);
    clearTimeout(this.pending);
    this.poller = this.heartbeat = this.pending = undefined;
  }

  private async poll(): Promise<void> {
    try {
      const seq = await latestAuditSeq(this.ctx);
      if (this.lastSeq !== -1 && seq !== this.lastSeq) this.nudge();
      this.lastSeq = seq;
    } catch (err) {
      log('warn', 'dashboard live poll failed', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  private nudge(): void {
    if (this.pending || this.clients.size === 0) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.broadcast('event: change\ndata: {}\n\n');
    }, DEBOUNCE_MS);
    this.pending.unref();
  }

  private broadcast(frame: string): void {
    for (const res of this.clients) res.write(frame);
  }
}
