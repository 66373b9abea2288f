/**
 * The real-mail half of `npm run bench`: one private Dovecot + Postfix (bench/real-mail.ts) for all three
 * benches, so every mailgate figure has its raw imapflow / nodemailer baseline from the same servers in the
 * same run. Skipped, with the reason, where the Debian packages or root are missing.
 */
import { benchDelivery, type DeliveryOptions, type DeliveryReport } from './delivery.js';
import { benchInbox, type InboxOptions, type InboxReport, type SideReport } from './inbox.js';
import { mailServersAvailable, startMailServers } from './real-mail.js';
import { benchReply, type ReplyOptions, type ReplyReport } from './reply.js';
import { BODY_WORD, SUBJECT_WORD } from './real-fixtures.js';
import { type Cell, formatTable, msSince, now, round, type Summary } from './stats.js';

export interface RealOptions {
  inbox: InboxOptions | null;
  reply: ReplyOptions | null;
  delivery: DeliveryOptions | null;
}

export type RealReport =
  | { skipped: true; missing: string[] }
  | { skipped: false; start_ms: number; inbox: InboxReport | null; reply: ReplyReport | null; delivery: DeliveryReport | null };

export async function benchReal(dir: string, o: RealOptions): Promise<RealReport> {
  const available = mailServersAvailable();
  if (!available.ok) {
    process.stderr.write(`bench: SKIPPING the real-mail benches (private Dovecot + Postfix on 127.0.0.1); missing: ${available.missing.join('; ')}\n`);
    if (available.missing.some((m) => /^(dovecot|postfix)/.test(m))) {
      process.stderr.write('bench:   to install on Debian, see requireMailServersOrSkip() in test/helpers/mail-servers.ts\n');
    }
    return { skipped: true, missing: available.missing };
  }
  process.stderr.write('bench: real mail: starting Dovecot + Postfix ...\n');
  const t = now();
  const mail = await startMailServers(['big', 'agent', 'peer', 'outbox', 'sink']);
  const start_ms = round(msSince(t));
  try {
    const inbox = o.inbox ? await benchInbox(mail, dir, o.inbox) : null;
    if (o.reply) process.stderr.write('bench: real mail: mail_wait reply detection ...\n');
    const reply = o.reply ? await benchReply(mail, dir, o.reply) : null;
    if (o.delivery) process.stderr.write('bench: real mail: approved-to-accepted delivery ...\n');
    const delivery = o.delivery ? await benchDelivery(mail, dir, o.delivery) : null;
    return { skipped: false, start_ms, inbox, reply, delivery };
  } catch (err) {
    process.stderr.write(`bench: mail server logs (tail):\n${mail.logs().slice(-4000)}\n`);
    throw err;
  } finally {
    await mail.stop();
  }
}

const HEADER = ['', 'n', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'];
const row = (label: string, s: Summary): Cell[] => [label, s.n, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms];
const once = (label: string, ms: number): Cell[] => [label, 1, ms, ms, ms, ms];
const n = (x: number) => x.toLocaleString('en-US');

export function formatReal(r: RealReport): string {
  if (r.skipped) return `real mail (check_inbox, search_email, mail_wait, delivery): SKIPPED, missing: ${r.missing.join('; ')}`;
  return [r.inbox && formatInbox(r.inbox), r.reply && formatReply(r.reply), r.delivery && formatDelivery(r.delivery)].filter(Boolean).join('\n\n');
}

function formatInbox(b: InboxReport): string {
  const { raw, service: s, mcp: m } = b;
  const search = (side: string, x: SideReport, kind: 'body' | 'subject', word: string): Cell[][] => [
    once(`${side} search_email ${kind} word '${word}', first (${x.search[kind].first_source})`, x.search[kind].first_ms),
    row(`${side} search_email ${kind} word '${word}', repeat (${x.search[kind].repeat_source})`, x.search[kind].repeat),
  ];
  return [
    `check_inbox (limit 20) and search_email on an INBOX of ${n(b.messages)} messages (${b.seed.mb} MB written into the Maildir in ` +
      `${n(Math.round(b.seed.ms))} ms); Dovecot's first SELECT ${raw.first_select_ms} ms, its first full envelope FETCH ${n(Math.round(raw.full_envelope_fetch_first_ms))} ms`,
    formatTable(HEADER, [
      row('raw imapflow: FETCH every envelope (warm)', raw.full_envelope_fetch),
      once('service:   check_inbox cold (empty cache: full sync + 20 bodies)', s.cold_ms),
      once(`mcp stdio: check_inbox cold (spawn to result ${n(Math.round(m.spawn_to_first_result_ms))} ms)`, m.cold_ms),
      row('raw imapflow: FETCH newest 20 envelopes', raw.newest_20_envelopes),
      row('service:   check_inbox repeat, no IDLE watcher', s.repeat),
      row('service:   check_inbox repeat, IDLE watcher', s.repeat_watched),
      row('mcp stdio: check_inbox repeat (serve: watcher on)', m.repeat),
      row(`raw imapflow: UID SEARCH BODY '${BODY_WORD}'`, raw.search_body),
      row(`raw imapflow: UID SEARCH UID <all, ${n(raw.uid_list_command_bytes)} B> BODY`, raw.search_body_in_uid_list),
      row(`raw imapflow: UID SEARCH SUBJECT '${SUBJECT_WORD}'`, raw.search_subject),
      ...search('service:  ', s, 'body', BODY_WORD),
      ...search('mcp stdio:', m, 'body', BODY_WORD),
      ...search('service:  ', s, 'subject', SUBJECT_WORD),
      ...search('mcp stdio:', m, 'subject', SUBJECT_WORD),
      row(`store:     FTS query alone, body word '${BODY_WORD}'`, s.fts_only.body),
      row(`store:     FTS query alone, subject word '${SUBJECT_WORD}'`, s.fts_only.subject),
      row(
        `service:   search_email body word, after prefetch (${s.after_prefetch.source}; prefetch ${s.after_prefetch.complete ? 'done' : 'NOT done'} in ${s.after_prefetch.prefetch_ms} ms)`,
        s.after_prefetch.body,
      ),
      row(`service:   search_email subject word, after prefetch (${s.after_prefetch.source})`, s.after_prefetch.subject),
    ]),
    `ratio p50 mailgate/raw: ${Object.entries(b.ratios)
      .map(([k, v]) => `${k} ${v}x`)
      .join('; ')}`,
  ].join('\n');
}

function formatReply(b: ReplyReport): string {
  return [
    `mail_wait reply detection, ${b.trials} trials per side, each from Postfix's 250 for the reply; ` +
      'floor: a raw imapflow connection idling on the same INBOX (Dovecot notifies after a few ms or ~500 ms)',
    formatTable(HEADER, [
      ...(['service', 'mcp'] as const).flatMap((side) => {
        const c = b[side];
        const label = side === 'service' ? 'service:  ' : 'mcp stdio:';
        return [
          row(`${label} mail_wait returns the reply`, c.mail_wait),
          row(`${label}   of which: push + sync into the cache`, c.stored),
          row(`${label}   of which: mail_wait's poll`, c.poll),
          row(`${label} raw imapflow IDLE: EXISTS (same trials)`, c.raw_idle),
        ];
      }),
    ]),
  ].join('\n');
}

function formatDelivery(b: DeliveryReport): string {
  const t = (label: string, x: { ms: number; msgs_per_s: number; approve_call?: Summary }): Cell[] => [
    label,
    b.messages,
    x.ms,
    x.msgs_per_s,
    x.approve_call?.p50_ms ?? NaN,
    x.approve_call?.p95_ms ?? NaN,
  ];
  return [
    `delivery: ${b.messages} approved messages outbox@ -> sink@ through Postfix, ${b.in_flight} approvals in flight; ` +
      'first approval -> every message accepted (and its copy appended to Sent, save_sent default)',
    formatTable(
      ['', 'msgs', 'total ms', 'msgs/s', 'approve p50 ms', 'approve p95 ms'],
      [
        t('raw nodemailer, 1 pooled connection', b.raw_one_connection),
        t('raw nodemailer, 1 connection + IMAP APPEND to Sent', b.raw_one_connection_sent_copy),
        t('raw nodemailer, pool of 5, all in flight', b.raw_pool_5),
        t('service:   approveMessage -> sent', b.service),
        t('mcp stdio: queue_approve -> sent', b.mcp),
      ],
    ),
    `ratio msgs/s mailgate/raw: ${Object.entries(b.ratios)
      .map(([k, v]) => `${k} ${v}x`)
      .join('; ')}`,
  ].join('\n');
}
