/**
 * Bench 5: approved-to-accepted delivery throughput. outbox@ is gated_send, so N sends to sink@ are held;
 * then all are approved (up to `inFlight` approvals at a time) and the clock runs until every one is `sent`:
 * accepted by Postfix and, as save_sent is on by default, appended to outbox@'s Sent folder over IMAP.
 *   service  approveMessage in this process (each approval runs a worker pass, as the tool does)
 *   mcp      queue_approve through a spawned `mailgate serve --role reviewer`
 * Baselines, same bytes to the same Postfix: nodemailer on one pooled connection, one message after the
 * other; the same plus an imapflow APPEND to Sent after each (what mailgate does per message, minus SQLite);
 * and nodemailer's default pool of 5 connections with every message in flight.
 * Between cases the bench waits until sink@'s INBOX holds every message so far: Postfix's LMTP deliveries of
 * one case must not run into the next, and it proves each accepted message really arrived.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ImapFlow } from 'imapflow';
import { approveMessage } from '../src/services/review.js';
import { sendEmail } from '../src/services/send.js';
import { serveOverStdio } from './client.js';
import { BODY } from './raw.js';
import { AGENT, imapAs, openApp, REVIEWER, smtpAs, writeMailgateConfig } from './real-fixtures.js';
import type { MailServers, MailUser } from './real-mail.js';
import { msSince, now, round, type Summary, summarize, timeConcurrent } from './stats.js';

export interface DeliveryOptions {
  messages: number;
  /** Approvals in flight at once (a reviewer approving a batch). */
  inFlight: number;
}

interface Throughput {
  ms: number;
  msgs_per_s: number;
}

export interface DeliveryReport {
  messages: number;
  in_flight: number;
  service: Throughput & { approve_call: Summary };
  mcp: Throughput & { approve_call: Summary };
  raw_one_connection: Throughput;
  raw_one_connection_sent_copy: Throughput;
  raw_pool_5: Throughput;
  /** mailgate msgs/s over baseline msgs/s. */
  ratios: Record<string, number>;
}

export async function benchDelivery(mail: MailServers, dir: string, o: DeliveryOptions): Promise<DeliveryReport> {
  const outbox = mail.users.outbox!;
  const sink = mail.users.sink!;
  const config = writeMailgateConfig(join(dir, 'delivery.json'), mail, [{ user: outbox, mode: 'gated_send' }]);
  const watch = await imapAs(mail, sink);
  let arrived = 0;
  const drained = async () => {
    arrived += o.messages;
    await untilInbox(watch, arrived);
  };
  const throughput = (ms: number): Throughput => ({ ms: round(ms), msgs_per_s: round(o.messages / (ms / 1000)) });
  try {
    // Unmeasured: Postfix forks its smtpd, cleanup, qmgr and lmtp processes on first use.
    await rawSend(mail, outbox, sink, 10, 5, false);
    arrived = 10 - o.messages;
    await drained();
    const raw_one_connection = throughput(await rawSend(mail, outbox, sink, o.messages, 1, false));
    await drained();

    const serviceDb = join(dir, 'delivery-service.db');
    const app = await openApp(config, serviceDb);
    let service: DeliveryReport['service'];
    try {
      const ids: string[] = [];
      for (let i = 0; i < o.messages; i++) {
        const r = await sendEmail(app, AGENT, { mailbox: outbox.address, to: [sink.address], subject: `Delivery ${i}`, text: BODY });
        if (r.status !== 'pending') throw new Error(`send_email from a gated_send mailbox returned ${r.status}, expected pending`);
        ids.push(r.message_id);
      }
      const t = now();
      const calls = await timeConcurrent(
        async (i) => {
          const m = await approveMessage(app, REVIEWER, ids[i]!);
          if (m.status !== 'sent') throw new Error(`approved ${m.message_id} ended ${m.status}: ${m.last_error ?? ''}`);
        },
        o.inFlight,
        o.messages,
        Infinity,
      );
      service = { ...throughput(msSince(t)), approve_call: summarize(calls.samples, calls.wallMs) };
      assertAllSent(serviceDb, o.messages);
    } finally {
      await app.close();
    }
    await drained();

    const raw_one_connection_sent_copy = throughput(await rawSend(mail, outbox, sink, o.messages, 1, true));
    await drained();

    const mcpDb = join(dir, 'delivery-mcp.db');
    const agent = await serveOverStdio(mcpDb, 'agent', { config, expectTools: ['send_email'] });
    const ids: string[] = [];
    try {
      await timeConcurrent(
        async (i) => {
          const r = await agent.call('send_email', { mailbox: outbox.address, to: sink.address, subject: `Delivery ${i}`, text: BODY });
          if (r.status !== 'pending') throw new Error(`send_email from a gated_send mailbox returned ${String(r.status)}, expected pending`);
          ids.push(String(r.message_id));
        },
        8,
        o.messages,
        Infinity,
      );
    } finally {
      await agent.close();
    }
    const reviewer = await serveOverStdio(mcpDb, 'reviewer', { config, expectTools: ['queue_approve'] });
    let mcp: DeliveryReport['mcp'];
    try {
      const t = now();
      const calls = await timeConcurrent(
        async (i) => {
          await reviewer.call('queue_approve', { message_id: ids[i]! });
        },
        o.inFlight,
        o.messages,
        Infinity,
      );
      // An approval answers once its worker pass is done, so everything is sent by now; a straggler left to
      // the background worker would be counted here.
      await until(() => countSent(mcpDb) === o.messages, 60_000, `all ${o.messages} approved messages to be sent`);
      mcp = { ...throughput(msSince(t)), approve_call: summarize(calls.samples, calls.wallMs) };
    } finally {
      await reviewer.close();
    }
    await drained();

    const raw_pool_5 = throughput(await rawSend(mail, outbox, sink, o.messages, 5, false));
    await drained();

    const rate = (a: Throughput, b: Throughput) => round(a.msgs_per_s / b.msgs_per_s);
    return {
      messages: o.messages,
      in_flight: o.inFlight,
      service,
      mcp,
      raw_one_connection,
      raw_one_connection_sent_copy,
      raw_pool_5,
      ratios: {
        service_vs_raw_one_connection: rate(service, raw_one_connection),
        service_vs_raw_sent_copy: rate(service, raw_one_connection_sent_copy),
        service_vs_raw_pool_5: rate(service, raw_pool_5),
        mcp_vs_raw_one_connection: rate(mcp, raw_one_connection),
        mcp_vs_raw_sent_copy: rate(mcp, raw_one_connection_sent_copy),
        mcp_vs_raw_pool_5: rate(mcp, raw_pool_5),
      },
    };
  } finally {
    await watch.logout().catch(() => watch.close());
  }
}

/** Sends n messages with nodemailer's pool; with sentCopy each is also appended to Sent before the next. */
async function rawSend(mail: MailServers, from: MailUser, to: MailUser, n: number, connections: number, sentCopy: boolean): Promise<number> {
  const smtp = smtpAs(mail, from, connections);
  const imap = sentCopy ? await imapAs(mail, from) : undefined;
  try {
    const raw = (i: number) =>
      Buffer.from(
        [
          `From: ${from.address}`,
          `To: ${to.address}`,
          `Subject: Raw delivery ${i}`,
          `Date: ${new Date().toUTCString()}`,
          `Message-ID: <raw-${i}-${Date.now()}@bench.mailgate.test>`,
          'MIME-Version: 1.0',
          'Content-Type: text/plain; charset=utf-8',
          '',
          BODY,
          '',
        ].join('\r\n'),
      );
    const one = async (i: number) => {
      const message = raw(i);
      const info = await smtp.sendMail({ envelope: { from: from.address, to: [to.address] }, raw: message });
      if (info.accepted?.length !== 1) throw new Error(`raw send ${i} was not accepted: ${info.response}`);
      if (imap) await imap.append('Sent', message, ['\\Seen']);
    };
    const t = now();
    await timeConcurrent(one, connections, n, Infinity);
    return msSince(t);
  } finally {
    smtp.close();
    await imap?.logout().catch(() => imap.close());
  }
}

function countSent(db: string): number {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return d.prepare("SELECT count(*) FROM messages WHERE status = 'sent'").pluck().get() as number;
  } finally {
    d.close();
  }
}

function assertAllSent(db: string, n: number): void {
  const sent = countSent(db);
  if (sent !== n) throw new Error(`${sent} of ${n} approved messages are sent`);
}

async function untilInbox(c: ImapFlow, count: number): Promise<void> {
  let last = 0;
  await until(
    async () => {
      const st = await c.status('INBOX', { messages: true });
      // biome-ignore lint/complexity/useOptionalChain: st is false | StatusObject, and ?. does not narrow false
      last = (st && st.messages) || 0;
      return last >= count;
    },
    60_000,
    () => `sink@'s INBOX to hold ${count} messages (has ${last})`,
  );
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
