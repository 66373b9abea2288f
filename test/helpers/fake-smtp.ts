/**
 * A scriptable SMTP server on nodemailer's smtp-server, in-process on 127.0.0.1 (port chosen by the OS), for
 * the delivery fault tests (test/mail/smtp-faults.test.ts, test/e2e/delivery-*.test.ts). No TLS; AUTH PLAIN/LOGIN with one
 * test user (or none with `auth: false`).
 *
 *   const smtp = await startFakeSmtp();
 *   smtp.script.rcpt = sequence({ do: 'reply', code: 450, message: '4.2.1 try later' }); // first RCPT 450, then 250
 *   smtp.script.end = () => ({ do: 'drop', record: true });   // accept after the dot, then vanish without a reply
 *   ... smtp.copies('<id@host>') ... smtp.accepted ... smtp.mailFroms ...
 *   await smtp.down(); await smtp.up();                       // stop listening, then listen on the same port
 *   await smtp.stop();
 *
 * Every phase of every transaction asks the script what to do: `accept` (the normal reply), `reply` (that
 * code and text), `drop` (destroy the socket, no reply), or `stall` (wait `ms`, then carry on; forever when
 * `ms` is absent). `data` is asked when DATA arrives, before any body byte is read: `drop` with `afterMs`
 * holds the body unread that long (the client fills its buffers) and then drops the connection before the
 * final dot. `end` is asked after the final dot: `record: true` on `drop` or `stall` counts the message as
 * accepted by the server although the client never hears the 250 (the ambiguous case).
 */
import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

export type Step =
  | { do: 'accept' }
  | { do: 'reply'; code: number; message?: string }
  | { do: 'drop'; afterMs?: number; record?: boolean }
  | { do: 'stall'; ms?: number; record?: boolean };

interface Ctx {
  /** 1-based number of the TCP connection. */
  connection: number;
  /** 1-based number of the MAIL FROM across the server's life (0 before the first). */
  transaction: number;
}

interface EndCtx extends Ctx {
  messageId: string | null;
  raw: Buffer;
  from: string;
  to: string[];
}

interface Script {
  connect(ctx: Ctx): Step;
  /** undefined = check the credentials against the test user. */
  auth(ctx: Ctx, user: string, pass: string): Step | undefined;
  mail(ctx: Ctx, from: string): Step;
  rcpt(ctx: Ctx, to: string): Step;
  data(ctx: Ctx): Step;
  end(ctx: EndCtx): Step;
}

interface AcceptedMessage {
  raw: Buffer;
  from: string;
  to: string[];
  messageId: string | null;
  connection: number;
  transaction: number;
}

export interface FakeSmtp {
  host: '127.0.0.1';
  port: number;
  user: string;
  password: string;
  script: Script;
  /** Messages the server accepted (answered 250 to, or recorded before an ambiguous drop/stall). */
  accepted: AcceptedMessage[];
  /** Every MAIL FROM received, so tests can count delivery attempts as the server saw them. */
  mailFroms: { from: string; connection: number }[];
  /** Every AUTH attempt (user only; the password is never kept). */
  auths: { user: string; ok: boolean }[];
  connections(): number;
  copies(messageId: string): number;
  /** Resets the script to accept everything and clears the records. */
  reset(): void;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

const ACCEPT: Step = { do: 'accept' };

const acceptAll = (): Script => ({
  connect: () => ACCEPT,
  auth: () => undefined,
  mail: () => ACCEPT,
  rcpt: () => ACCEPT,
  data: () => ACCEPT,
  end: () => ACCEPT,
});

/** A phase handler (for any phase) that plays `steps` in order, one per call, then accepts. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- fits every phase's signature
export function sequence(...steps: Step[]): (...args: any[]) => Step {
  let i = 0;
  return () => steps[i++] ?? ACCEPT;
}

/** The Message-ID header of a raw message (unfolded), or null. */
function messageIdOf(raw: Buffer): string | null {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  const head = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  const m = /^message-id:[ \t]*(.+?)[ \t]*$/im.exec(head);
  return m ? m[1]! : null;
}

type Cb = (err?: Error | null, msg?: string) => void;
type Conn = { id: string; _socket: Socket };

export async function startFakeSmtp(opts: { auth?: boolean; user?: string; password?: string } = {}): Promise<FakeSmtp> {
  const user = opts.user ?? 'mailgate-test';
  const password = opts.password ?? 'S3cret-Pa55word!';
  const requireAuth = opts.auth ?? true;
  const timers = new Set<NodeJS.Timeout>();
  const connNo = new Map<string, number>();
  const txNo = new Map<string, number>();
  let connCount = 0;
  let txCount = 0;
  let accepted = 0;
  let server: SMTPServer;
  let port = 0;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const ctx = (s: SMTPServerSession): Ctx => ({ connection: connNo.get(s.id) ?? 0, transaction: txNo.get(s.id) ?? 0 });
  const drop = (srv: SMTPServer, s: SMTPServerSession) => {
    for (const c of (srv as unknown as { connections: Set<Conn> }).connections) if (c.id === s.id) c._socket.destroy();
  };
  const failure = (code: number, message: string) => Object.assign(new Error(message), { responseCode: code });
  /** Plays a step for a command phase: accept / reply / drop / stall (then accept). */
  const play = (srv: SMTPServer, s: SMTPServerSession, step: Step, cb: Cb, okText?: string) => {
    switch (step.do) {
      case 'accept':
        return cb(null, okText);
      case 'reply':
        return cb(failure(step.code, step.message ?? `${step.code} scripted reply`));
      case 'drop':
        return step.afterMs ? later(step.afterMs, () => drop(srv, s)) : drop(srv, s);
      case 'stall':
        if (step.ms !== undefined) later(step.ms, () => cb(null, okText));
        return;
    }
  };

  const fake: FakeSmtp = {
    host: '127.0.0.1',
    port: 0,
    user,
    password,
    script: acceptAll(),
    accepted: [],
    mailFroms: [],
    auths: [],
    connections: () => connCount,
    copies: (id) => fake.accepted.filter((m) => m.messageId === id).length,
    reset() {
      fake.script = acceptAll();
      fake.accepted.length = 0;
      fake.mailFroms.length = 0;
      fake.auths.length = 0;
    },
    async down() {
      const srv = server;
      for (const c of (srv as unknown as { connections: Set<Conn> }).connections) c._socket.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
    },
    async up() {
      server = create();
      await listen(server, port);
    },
    async stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if ((server as unknown as { server: { listening: boolean } }).server.listening) await fake.down();
    },
  };

  const create = (): SMTPServer => {
    const srv: SMTPServer = new SMTPServer({
      secure: false,
      disabledCommands: requireAuth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
      hideSTARTTLS: true,
      authOptional: !requireAuth,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      closeTimeout: 100,
      onConnect(session, cb) {
        connNo.set(session.id, ++connCount);
        play(srv, session, fake.script.connect(ctx(session)), cb);
      },
      onAuth(auth, session, cb) {
        const step = fake.script.auth(ctx(session), auth.username ?? '', auth.password ?? '');
        if (step)
          return play(srv, session, step, (err) => {
            fake.auths.push({ user: auth.username ?? '', ok: !err });
            cb(err ?? null, err ? undefined : { user: auth.username });
          });
        const ok = auth.username === user && auth.password === password;
        fake.auths.push({ user: auth.username ?? '', ok });
        if (!ok) return cb(failure(535, '5.7.8 Error: authentication failed: bad username or password'));
        cb(null, { user: auth.username });
      },
      onMailFrom(address, session, cb) {
        txNo.set(session.id, ++txCount);
        fake.mailFroms.push({ from: address.address, connection: connNo.get(session.id) ?? 0 });
        play(srv, session, fake.script.mail(ctx(session), address.address), cb);
      },
      onRcptTo(address, session, cb) {
        play(srv, session, fake.script.rcpt(ctx(session), address.address), cb);
      },
      onData(stream, session, cb) {
        const c = ctx(session);
        const step = fake.script.data(c);
        if (step.do === 'drop') {
          // Nothing reads the body meanwhile: smtp-server stops reading the socket, so the client blocks.
          return step.afterMs ? later(step.afterMs, () => drop(srv, session)) : drop(srv, session);
        }
        const chunks: Buffer[] = [];
        stream.on('data', (b: Buffer) => chunks.push(b));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const msg: AcceptedMessage = {
            raw,
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            messageId: messageIdOf(raw),
            connection: c.connection,
            transaction: c.transaction,
          };
          const go = () => {
            // A `reply` to DATA is given once the body is in (smtp-server answers DATA itself with 354).
            const end = step.do === 'reply' ? step : fake.script.end({ ...c, ...msg });
            if (end.do === 'accept' || ((end.do === 'drop' || end.do === 'stall') && end.record)) fake.accepted.push(msg);
            play(srv, session, end, cb, `2.0.0 Ok: queued as FAKE${++accepted}`);
          };
          if (step.do === 'stall') later(step.ms ?? 2 ** 30, go);
          else go();
        });
      },
    });
    srv.on('error', () => undefined); // client resets are expected here
    return srv;
  };

  const listen = (srv: SMTPServer, p: number) =>
    new Promise<void>((resolve, reject) => {
      const net = (srv as unknown as { server: import('node:net').Server }).server;
      net.once('error', reject);
      srv.listen(p, '127.0.0.1', () => {
        net.off('error', reject);
        port = (net.address() as import('node:net').AddressInfo).port;
        fake.port = port;
        resolve();
      });
    });

  server = create();
  await listen(server, 0);
  return fake;
}
