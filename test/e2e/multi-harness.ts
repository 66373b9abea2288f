/**
 * For the multi-instance test (multi-instance.test.ts): a fleet of `mailgate serve --http` processes on one
 * PostgreSQL database, each on a fixed port so that a restarted instance comes back at the same URL (as behind a
 * load balancer); MCP clients that fail over to another instance when theirs dies, as a load balancer would; a
 * TCP proxy that slows SMTP down so a kill can land inside a delivery; and the recipient's Maildir and Postfix's
 * queue read straight from disk, so the oracle for "arrived once" is outside mailgate.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type pg from 'pg';
import { connect, type HttpSession } from '../http/harness.js';
import { CLI, childEnv, ROOT, sleep, waitFor } from './harness.js';

interface Slot {
  n: number;
  port: number;
  up: boolean;
  child?: ChildProcess;
  exited?: Promise<void>;
}

export interface CallOutcome {
  result: CallToolResult;
  /** The instance that answered. */
  instance: number;
  /** 1 unless an instance died under the call (or refused the connection) and it was made again elsewhere. */
  tries: number;
}

/** Instances are numbered from 1, as in the issue. */
export class Fleet {
  private readonly slots = new Map<number, Slot>();
  private readonly sessions = new Map<string, Promise<HttpSession>>();
  /** stderr of every process this fleet started, killed ones included, for failure messages and checks. */
  private readonly logs: string[] = [];
  /** Calls made again on another (or the restarted) instance because theirs died under them. */
  retried = 0;

  constructor(private readonly o: { config: string; home: string; env: Record<string, string> }) {}

  async start(n: number): Promise<void> {
    const slot = this.slots.get(n) ?? { n, port: await freePort(), up: false };
    this.slots.set(n, slot);
    const args = [CLI, 'serve', '--http', '--port', String(slot.port), '--config', this.o.config];
    const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv(this.o.home, this.o.env), stdio: ['ignore', 'ignore', 'pipe'] });
    const log = this.logs.push('') - 1;
    child.stderr!.on('data', (c: Buffer) => (this.logs[log] += c.toString('utf8')));
    slot.child = child;
    slot.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`instance ${n} exited at start:\n${this.logs[log]}`);
        return this.logs[log]!.includes(`MCP (Streamable HTTP): http://127.0.0.1:${slot.port}/mcp`);
      },
      20_000,
      `instance ${n} to listen on ${slot.port}`,
    );
    slot.up = true;
  }

  /** SIGKILL: no shutdown code runs. Calls in flight on it fail at once (their clients are closed), and retry elsewhere. */
  async kill(n: number): Promise<void> {
    const slot = this.slot(n);
    slot.up = false;
    slot.child!.kill('SIGKILL');
    await Promise.all([...this.sessions.keys()].filter((k) => k.endsWith(`@${n}`)).map((k) => this.drop(k)));
    await slot.exited;
  }

  /** Which instance a pid is, while it runs: the delivery lease owner names its process as host:pid:random. */
  instanceOf(pid: number): number | undefined {
    return [...this.slots.values()].find((s) => s.up && s.child?.pid === pid)?.n;
  }

  stderr(): string {
    return this.logs.join('\n');
  }

  /**
   * Calls a tool on the first of `prefer` that is up, with one session per token and instance. A call that throws
   * (the instance died under it, or was found dead) is made again on the next one up: for sends that is safe
   * because they carry an idempotency key, and a decision made twice is refused the second time (NOT_PENDING).
   */
  async call(token: string, prefer: number[], name: string, args: Record<string, unknown>): Promise<CallOutcome> {
    const deadline = Date.now() + 45_000;
    for (let tries = 1; ; tries++) {
      const n = prefer.find((i) => this.slot(i).up);
      if (n === undefined) {
        if (Date.now() > deadline) throw new Error(`${name}: none of instances ${prefer.join(', ')} came back`);
        await sleep(25);
        continue;
      }
      const key = `${token}@${n}`;
      if (!this.sessions.has(key)) this.sessions.set(key, connect('streamable', `http://127.0.0.1:${this.slot(n).port}`, token, `multi-${n}`));
      const used = this.sessions.get(key)!;
      try {
        return { result: await (await used).call(name, args), instance: n, tries };
      } catch (err) {
        // Another caller may have connected afresh meanwhile: only the session that failed is dropped.
        if (this.sessions.get(key) === used) await this.drop(key);
        this.retried++;
        if (Date.now() > deadline) throw new Error(`${name} kept failing (${tries} tries); last on instance ${n}: ${String(err)}`);
        await sleep(25); // not for correctness: only so a connection refused during a kill is not retried in a spin
      }
    }
  }

  /** Closes every session, then stops every instance with SIGTERM, as an operator would; the exit codes. */
  async stop(): Promise<(number | null)[]> {
    await Promise.all([...this.sessions.keys()].map((k) => this.drop(k, true)));
    return Promise.all(
      [...this.slots.values()].map(async (s) => {
        if (!s.child || s.child.exitCode !== null || s.child.signalCode !== null) return s.child?.exitCode ?? null;
        s.up = false;
        s.child.kill('SIGTERM');
        const timer = setTimeout(() => s.child!.kill('SIGKILL'), 10_000);
        await s.exited;
        clearTimeout(timer);
        return s.child.exitCode;
      }),
    );
  }

  private async drop(key: string, politely = false): Promise<void> {
    const session = this.sessions.get(key);
    this.sessions.delete(key);
    const s = await session?.catch(() => undefined);
    // A dead instance cannot end the session; closing the client is what rejects the calls still waiting on it.
    await (politely ? s?.close() : s?.client.close())?.catch(() => undefined);
  }

  private slot(n: number): Slot {
    const s = this.slots.get(n);
    if (!s) throw new Error(`no instance ${n}`);
    return s;
  }
}

/** Where a kill lands in a delivery, and who recovers the message: the restarted instance itself, or a survivor. */
export interface ChaosStep {
  window: 'claimed' | 'transmitting';
  restart: 'at_once' | 'after_recovery';
}

export interface Kill extends ChaosStep {
  instance: number;
  message_id: string;
  /** The target was still this process's delivery when it died, and past the transmitting mark. */
  landed: boolean;
  transmitted: boolean;
  /** Every message the dead process held a lease on (a worker claims a batch), and whether it was past the mark. */
  held: { id: string; transmitted: boolean }[];
}

/**
 * Until stopped: finds a message in delivery in the next step's window, SIGKILLs the instance holding its lease
 * (the owner is host:pid:random) and restarts it, at once or once the lease has run out and a survivor has
 * recovered the message. One instance is down at a time, so the clients always have one to fail over to.
 */
export function startChaos(fleet: Fleet, db: pg.Pool, steps: ChaosStep[], leaseMs: number): { kills: Kill[]; stop(): Promise<void> } {
  type Sending = { message_id: string; lease_owner: string; transmitting_at: string | null };
  const kills: Kill[] = [];
  let stopping = false;
  const done = (async () => {
    while (!stopping) {
      const step = steps[kills.length % steps.length]!;
      let target: { row: Sending; instance: number } | undefined;
      while (!stopping && !target) {
        const { rows } = await db.query<Sending>(
          "SELECT message_id, lease_owner, transmitting_at FROM messages WHERE status = 'sending' AND lease_owner IS NOT NULL",
        );
        const row = rows.find((r) => (r.transmitting_at !== null) === (step.window === 'transmitting'));
        const instance = row && fleet.instanceOf(Number(row.lease_owner.split(':')[1]));
        if (row && instance) target = { row, instance };
        else await sleep(5);
      }
      if (!target) break;
      const { row, instance } = target;
      await fleet.kill(instance);
      const left = await db.query<Sending>("SELECT message_id, transmitting_at FROM messages WHERE status = 'sending' AND lease_owner = $1", [row.lease_owner]);
      const held = left.rows.map((r) => ({ id: r.message_id, transmitted: r.transmitting_at !== null }));
      const hit = held.find((h) => h.id === row.message_id);
      kills.push({ instance, message_id: row.message_id, ...step, landed: !!hit, transmitted: !!hit?.transmitted, held });
      if (step.restart === 'after_recovery') {
        const owner = async () => (await db.query('SELECT lease_owner FROM messages WHERE message_id = $1', [row.message_id])).rows[0].lease_owner;
        await waitFor(async () => (await owner()) !== row.lease_owner, leaseMs + 10_000, `a survivor to recover ${row.message_id} from instance ${instance}`);
      }
      await fleet.start(instance);
    }
  })();
  return {
    kills,
    stop: async () => {
      stopping = true;
      await done;
    },
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * Forwards to 127.0.0.1:port with `delayMs` added each way, so a delivery's SMTP dialogue (and the time between
 * its final dot and the 250) lasts long enough to kill its process inside it. Bytes already handed to the proxy
 * still arrive after the client died, as bytes in flight on a network do: a final dot sent just before a SIGKILL
 * reaches Postfix.
 */
export async function startDelayProxy(port: number, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s)).on('error', () => undefined);
    }
    // Timers of one duration fire in the order they were set, so the byte order is kept.
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (c: Buffer) => setTimeout(() => to.writable && to.write(c), delayMs));
      from.on('close', () => setTimeout(() => to.end(), delayMs));
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const bare = (id: string) => id.trim().replace(/^<|>$/g, '');

/** Copies per Message-ID (without angle brackets) in a Maildir's new/ and cur/: what the recipient has. */
export function maildirCopies(maildir: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const sub of ['new', 'cur']) {
    for (const f of listFiles(join(maildir, sub))) {
      const text = readFileSync(f, 'utf8'); // nobody reads this mailbox over IMAP, so no file moves to cur/ meanwhile
      const end = text.search(/\r?\n\r?\n/);
      const id = /^Message-ID:\s*(\S+)/im.exec(end < 0 ? text : text.slice(0, end))?.[1];
      if (id) counts.set(bare(id), (counts.get(bare(id)) ?? 0) + 1);
    }
  }
  return counts;
}

export const copiesOf = (copies: Map<string, number>, header: string): number => copies.get(bare(header)) ?? 0;

/** Messages still in the private Postfix's queues (test/helpers/mail-servers.ts puts queue_directory at DIR/spool). */
export function postfixQueued(mailDir: string): number {
  return ['maildrop', 'incoming', 'active', 'deferred', 'hold'].reduce((n, q) => n + listFiles(join(mailDir, 'spool', q), true).length, 0);
}

function listFiles(dir: string, deep = false): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return []; // not created yet
  }
  return names.flatMap((name) => {
    const p = join(dir, name);
    try {
      return statSync(p).isDirectory() ? (deep ? listFiles(p, true) : []) : [p];
    } catch {
      return []; // moved on meanwhile (new/ -> cur/, active -> gone)
    }
  });
}
