/**
 * An in-process TCP proxy on 127.0.0.1 for fault injection between a client and a local server:
 *
 *   const proxy = await startTcpProxy({ port: mail.imap.port });
 *   // point the client at proxy.port, then:
 *   proxy.blackhole();  // silent drop: nothing is forwarded either way, no FIN, no RST (a dead network path)
 *   proxy.resume();     // forwarding again; the bytes held meanwhile arrive, as after a healed partition
 *   proxy.reset();      // every connection torn down with a TCP RST, both sides (a crashed peer or middlebox)
 *   proxy.connections;  // connections accepted so far; proxy.active: open now
 *   await proxy.close();
 *
 * During a blackhole, new connections are accepted (the kernel completes the handshake) but not connected
 * upstream until resume(): the client sees a connection that never greets. Only 127.0.0.1 is ever dialled.
 */
import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  host: '127.0.0.1';
  port: number;
  /** Connections accepted since start. */
  readonly connections: number;
  /** Connections not yet closed on both sides. */
  readonly active: number;
  blackhole(): void;
  resume(): void;
  reset(): void;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream?: Socket;
}

export async function startTcpProxy(target: { host?: string; port: number }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== 'localhost') throw new Error(`tcp-proxy forwards to 127.0.0.1 only, not ${host}`);
  const pairs = new Set<Pair>();
  let accepted = 0;
  let holding = false;
  const deferred: (() => void)[] = [];
  // A paused socket still reports a FIN (and an RST) when nothing is buffered: keep those for resume() too.
  const unlessHolding = (fn: () => void): void => {
    if (holding) deferred.push(fn);
    else fn();
  };

  // Half-closes pass through as they come; an error on one side drops the other.
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!holding) from.resume();
    });
    from.on('end', () => unlessHolding(() => to.end()));
    from.on('error', () => unlessHolding(() => to.destroy()));
  };
  // A paused socket is read no further (past Node's 16 KiB buffer): the bytes wait in the kernel and TCP windows.
  const hold = (p: Pair): void => {
    p.client.pause();
    p.upstream?.pause();
  };
  const untrack = (p: Pair): void => {
    if (p.client.destroyed && (!p.upstream || p.upstream.destroyed)) pairs.delete(p);
  };
  const link = (p: Pair): void => {
    const upstream = connect({ port: target.port, host: '127.0.0.1', allowHalfOpen: true });
    p.upstream = upstream;
    forward(p.client, upstream);
    forward(upstream, p.client);
    if (p.client.readableEnded) upstream.end(); // the client half-closed while held
    upstream.on('close', () => untrack(p));
    if (holding) hold(p);
  };

  const server = createServer({ allowHalfOpen: true }, (client) => {
    accepted++;
    const pair: Pair = { client };
    pairs.add(pair);
    client.on('close', () => untrack(pair));
    if (holding) {
      client.pause();
      client.on('error', () => undefined); // not linked yet: nothing to propagate to
    } else {
      link(pair);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });

  return {
    host: '127.0.0.1',
    port: (server.address() as { port: number }).port,
    get connections() {
      return accepted;
    },
    get active() {
      return pairs.size;
    },
    blackhole() {
      holding = true;
      for (const p of pairs) hold(p);
    },
    resume() {
      holding = false;
      for (const fn of deferred.splice(0)) fn();
      for (const p of pairs) {
        if (!p.upstream && !p.client.destroyed) link(p);
        p.client.resume();
        p.upstream?.resume();
      }
    },
    reset() {
      for (const p of pairs) {
        p.client.resetAndDestroy();
        p.upstream?.resetAndDestroy();
      }
    },
    close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream?.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
