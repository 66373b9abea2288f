/**
 * What the real-mail benches share: a 10,000-message INBOX written straight into a Maildir, mailgate config
 * files naming real IMAP/SMTP mailboxes, and plain imapflow / nodemailer clients for the baselines.
 */
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import nodemailer, { type Mail } from 'nodemailer';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import type { Principal } from '../src/services/context.js';
import { LOOPBACK, type MailServers, type MailUser } from './real-mail.js';
import { BENCH_POLICY } from './client.js';
import { msSince, now, round } from './stats.js';

/** In 1 message of 100, only in the subject (the body never has it). */
export const SUBJECT_WORD = 'zeppelin';
/** In 1 message of 100, only in the body. */
export const BODY_WORD = 'aardvark';
export const AGENT: Principal = { id: 'mcp:agent/mailgate-bench', roles: ['agent'], mailboxes: 'all' };
export const REVIEWER: Principal = { id: 'cli:bench-reviewer', roles: ['reviewer'], mailboxes: 'all' };

const WORDS = (
  'account agenda answer april budget calendar change client contract copy customer data deadline delivery ' +
  'design draft estimate feedback figures final forecast invoice issue kickoff launch meeting minutes note office order ' +
  'payment plan policy price project proposal quarter question release report request review roadmap sales schedule ' +
  'server shipment signature status summary supplier support team ticket timeline travel update vendor version workshop'
).split(' ');
const TOPICS = ['Weekly', 'Quarterly', 'Urgent', 'Follow-up', 'Reminder', 'Draft', 'Final', 'Question', 'Notes', 'Update'];

/** Deterministic pseudo-random numbers (a 32-bit LCG), so every run seeds the same mailbox. */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** Message `i` of the seeded folder; message n-1 is the newest. */
export function seedSubject(i: number): string {
  const pick = lcg(i * 7919 + 1);
  const topic = TOPICS[Math.floor(pick() * TOPICS.length)]!;
  const w = () => WORDS[Math.floor(pick() * WORDS.length)]!;
  return `${topic} ${w()} ${w()}${i % 100 === 7 ? ` ${SUBJECT_WORD}` : ''} #${i}`;
}

function seedMessage(i: number, n: number, to: string, t0: number): string {
  const pick = lcg(i * 104729 + 3);
  const w = () => WORDS[Math.floor(pick() * WORDS.length)]!;
  const sender = i % 50;
  const lines: string[] = [];
  for (let l = 0; l < 12; l++) lines.push(Array.from({ length: 12 }, w).join(' '));
  if (i % 100 === 57) lines.splice(5, 0, `The ${BODY_WORD} figures are attached to the ${w()} ${w()}.`);
  const date = new Date(t0 + (i - n) * 60_000);
  return [
    `From: Sender ${sender} <sender${sender}@example.org>`,
    `To: ${to}`,
    `Subject: ${seedSubject(i)}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <seed-${i}@bench.example.org>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello,',
    '',
    ...lines,
    '',
    `Regards,\nSender ${sender}`,
    '',
  ].join('\n');
}

/**
 * Writes `n` messages into cur/ of `localPart`'s Maildir before Dovecot has seen it: about 100x faster than
 * LMTP. Names are `<time>.M<i>P<pid>.<host>,S=<size>,W=<CRLF size>:2,` (Maildir++), times increasing with i
 * so Dovecot assigns UIDs in message order; no flags, so every message is unread.
 */
export function seedMaildir(mail: MailServers, localPart: string, n: number): { ms: number; bytes: number } {
  const start = now();
  const root = mail.maildir(localPart);
  const home = join(root, '..');
  for (const d of [home, root, join(root, 'cur'), join(root, 'new'), join(root, 'tmp')]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
    chownSync(d, mail.mailOwner.uid, mail.mailOwner.gid);
  }
  const t0 = Date.now();
  const base = Math.floor(t0 / 1000) - n;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const body = Buffer.from(seedMessage(i, n, mail.users[localPart]!.address, t0));
    const crlf = body.length + body.toString('latin1').split('\n').length - 1;
    const file = join(root, 'cur', `${base + i}.M${i}P${process.pid}.mgbench,S=${body.length},W=${crlf}:2,`);
    writeFileSync(file, body);
    chownSync(file, mail.mailOwner.uid, mail.mailOwner.gid);
    bytes += body.length;
  }
  return { ms: round(msSince(start)), bytes };
}

export interface RealBox {
  user: MailUser;
  mode: 'gated_send' | 'autonomous';
}

/** A mailgate config file with one real IMAP/SMTP mailbox per entry (save_sent and heartbeat at their defaults). */
export function writeMailgateConfig(path: string, mail: MailServers, boxes: RealBox[]): string {
  const server = (u: MailUser, port: number) => ({ host: LOOPBACK, port, secure: false, user: u.user, password: u.password });
  writeFileSync(
    path,
    JSON.stringify(
      {
        mailboxes: boxes.map((b) => ({
          address: b.user.address,
          oversight_mode: b.mode,
          imap: server(b.user, mail.imap.port),
          smtp: server(b.user, mail.smtp.port),
        })),
        policy: BENCH_POLICY,
      },
      null,
      2,
    ),
  );
  return path;
}

/** mailgate's services in this process, as a tool handler calls them; `background` starts IDLE and the worker. */
export function openApp(config: string, db: string, background = false): Promise<App> {
  return createApp(loadConfig({ config, db }, {}), { background, watch: background });
}

export async function imapAs(mail: MailServers, u: MailUser): Promise<ImapFlow> {
  const c = new ImapFlow({ host: LOOPBACK, port: mail.imap.port, secure: false, auth: { user: u.user, pass: u.password }, logger: false });
  await c.connect();
  return c;
}

/** A pooled submission transport as `u`, the way a plain nodemailer application sends. */
export function smtpAs(mail: MailServers, u: MailUser, maxConnections: number): Mail {
  return nodemailer.createTransport({
    pool: true,
    maxConnections,
    maxMessages: Infinity,
    host: LOOPBACK,
    port: mail.smtp.port,
    secure: false,
    ignoreTLS: true,
    auth: { user: u.user, pass: u.password },
    logger: false,
  });
}
