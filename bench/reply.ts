/**
 * Bench 4: reply detection by mail_wait. agent@ (autonomous) sends to peer@, a mail_wait on that message is
 * started, and after a random 100-400 ms (so replies land at every phase of mail_wait's 250 ms poll) peer@
 * replies through Postfix submission with In-Reply-To, as a mail client would. Measured from Postfix's 250
 * for the reply: until mail_wait returns it, split at the moment mailgate's IDLE-triggered sync stored it in
 * the cache (emails.received_at): push + sync, then mail_wait's poll. The floor: a raw imapflow connection
 * idling on agent@'s INBOX (RFC 2177), 250 -> EXISTS (Postfix queue, LMTP into Dovecot, and Dovecot's own
 * notify delay, either a few ms or about 500 ms, decided per connection: so it is a distribution to compare
 * with, not a per-trial floor). Once through the services in this process (IDLE watcher and worker running,
 * as in `serve`), once through a spawned `mailgate serve`.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ImapFlow } from 'imapflow';
import { sendEmail } from '../src/services/send.js';
import { waitForMessage } from '../src/services/wait.js';
import { serveOverStdio } from './client.js';
import { AGENT, imapAs, openApp, smtpAs, writeMailgateConfig } from './real-fixtures.js';
import type { MailServers } from './real-mail.js';
import { msSince, now, type Summary, summarize } from './stats.js';

export interface ReplyOptions {
  trials: number;
}

interface ReplyCase {
  /** 250 for the reply -> mail_wait returned with it. */
  mail_wait: Summary;
  /** 250 -> the reply stored in mailgate's cache (IDLE push to mailgate's watcher, then the sync). */
  stored: Summary;
  /** Stored -> mail_wait returned (its poll interval). */
  poll: Summary;
  /** 250 -> EXISTS on a raw IDLE connection of its own (same trials). */
  raw_idle: Summary;
}

export interface ReplyReport {
  trials: number;
  service: ReplyCase;
  mcp: ReplyCase;
}

/** One side's way of sending and waiting: the Message-ID header, and a wait resolving with the reply's received_at. */
type Side = (i: number) => Promise<{ header: string; wait: () => Promise<number> }>;

export async function benchReply(mail: MailServers, dir: string, o: ReplyOptions): Promise<ReplyReport> {
  const agent = mail.users.agent!;
  const peer = mail.users.peer!;
  const config = writeMailgateConfig(join(dir, 'reply.json'), mail, [{ user: agent, mode: 'autonomous' }]);
  const idle = await idleOn(mail);
  const smtp = smtpAs(mail, peer, 1);
  const trials = async (side: Side): Promise<ReplyCase> => {
    const samples = { mail_wait: [] as number[], stored: [] as number[], poll: [] as number[], raw_idle: [] as number[] };
    const start = now();
    for (let i = 0; i < o.trials; i++) {
      const { header, wait } = await side(i);
      const waiting = wait();
      waiting.catch(() => undefined); // rethrown by the await below; must not count as unhandled meanwhile
      await sleep(100 + Math.random() * 300);
      const pushed = idle.next();
      pushed.catch(() => undefined);
      await smtp.sendMail({ from: peer.address, to: agent.address, subject: `Re: question ${i}`, text: 'Yes.', inReplyTo: header, references: header });
      const accepted = now();
      const acceptedAt = Date.now();
      const receivedAt = await waiting;
      const total = msSince(accepted);
      samples.mail_wait.push(total);
      samples.stored.push(receivedAt - acceptedAt);
      samples.poll.push(total - (receivedAt - acceptedAt));
      samples.raw_idle.push(Number((await pushed) - accepted) / 1e6);
    }
    const wall = msSince(start);
    return {
      mail_wait: summarize(samples.mail_wait, wall),
      stored: summarize(samples.stored, wall),
      poll: summarize(samples.poll, wall),
      raw_idle: summarize(samples.raw_idle, wall),
    };
  };
  try {
    const serviceDb = join(dir, 'reply-service.db');
    const app = await openApp(config, serviceDb, true);
    let service: ReplyCase;
    try {
      service = await trials(async (i) => {
        const sent = await sendEmail(app, AGENT, { mailbox: agent.address, to: [peer.address], subject: `question ${i}`, text: 'Can you confirm?' });
        if (sent.status !== 'sent') throw new Error(`send_email from an autonomous mailbox returned ${sent.status}: ${sent.reason ?? ''}`);
        const header = (await app.store.getMessage(sent.message_id))!.message_id_header;
        return {
          header,
          wait: async () => {
            const r = await waitForMessage(app, AGENT, sent.message_id, { timeoutMs: 30_000 });
            if (!r.reply) throw new Error(`mail_wait (service) returned without the reply (status ${r.message.status}, timed_out ${r.timed_out})`);
            return r.reply.received_at;
          },
        };
      });
    } finally {
      await app.close();
    }

    const mcpDb = join(dir, 'reply-mcp.db');
    const served = await serveOverStdio(mcpDb, 'agent', { config, expectTools: ['send_email', 'mail_wait'] });
    let mcp: ReplyCase;
    try {
      mcp = await trials(async (i) => {
        const sent = await served.call('send_email', { mailbox: agent.address, to: peer.address, subject: `question ${i}`, text: 'Can you confirm?' });
        if (sent.status !== 'sent') throw new Error(`send_email from an autonomous mailbox returned ${String(sent.status)}: ${String(sent.reason ?? '')}`);
        const id = String(sent.message_id);
        return {
          header: headerOf(mcpDb, id),
          wait: async () => {
            const r = await served.call('mail_wait', { message_id: id, timeout_seconds: 30 });
            if (!r.reply) throw new Error(`mail_wait (mcp) returned without the reply: ${JSON.stringify(r)}`);
            return receivedAt(mcpDb, String((r.reply as { email_id: string }).email_id));
          },
        };
      });
    } finally {
      await served.close();
    }
    return { trials: o.trials, service, mcp };
  } finally {
    smtp.close();
    await idle.close();
  }
}

/** A raw IDLE connection on agent@'s INBOX; next() resolves with the hrtime of the next EXISTS push. */
async function idleOn(mail: MailServers): Promise<{ next(): Promise<bigint>; close(): Promise<void> }> {
  const c: ImapFlow = await imapAs(mail, mail.users.agent!);
  await c.mailboxOpen('INBOX');
  let waiter: ((at: bigint) => void) | undefined;
  c.on('exists', () => {
    const at = now();
    waiter?.(at);
    waiter = undefined;
  });
  void c.idle().catch(() => undefined);
  return {
    next: () =>
      new Promise<bigint>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('the raw IDLE connection saw no EXISTS within 30 s of the reply')), 30_000);
        waiter = (at) => {
          clearTimeout(t);
          resolve(at);
        };
      }),
    close: () => c.logout().catch(() => c.close()),
  };
}

const headerOf = (db: string, messageId: string) => String(one(db, 'SELECT message_id_header FROM messages WHERE message_id = ?', messageId));
const receivedAt = (db: string, emailId: string) => Number(one(db, 'SELECT received_at FROM emails WHERE email_id = ?', emailId));

/** One value from the server's database, read-only (WAL: the server's writes are not blocked). */
function one(db: string, sql: string, param: string): unknown {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const v = d.prepare(sql).pluck().get(param);
    if (v === undefined) throw new Error(`${sql} (${param}): no row in ${db}`);
    return v;
  } finally {
    d.close();
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
