/**
 * Bench 3: check_inbox and search_email on a large real INBOX (default 10,000 messages, written into the
 * Maildir before Dovecot's first look). Three sides on the same Dovecot:
 *   raw      imapflow alone: the first SELECT and full envelope FETCH (what any cache must pay once), a FETCH
 *            of the newest 20 envelopes (what a client without a cache pays per listing), UID SEARCH BODY /
 *            SUBJECT over the folder, and the exact SEARCH mailgate sends (BODY limited to a UID list).
 *   service  mailgate's services in this process, as a tool handler calls them: cold (empty cache: full sync
 *            of every envelope plus the bodies of the first page), then repeats without the IDLE watcher (each
 *            call resyncs incrementally) and with it (the watcher vouches for INBOX, so no IMAP at all).
 *   mcp      a spawned `mailgate serve` driven over stdio, what an agent sees; it starts its watcher, whose
 *            first sync the cold call joins.
 */
import { join } from 'node:path';
import type { App } from '../src/app.js';
import { checkInbox, searchEmail } from '../src/services/inbox.js';
import { serveOverStdio, type Served } from './client.js';
import { AGENT, BODY_WORD, imapAs, openApp, seedMaildir, seedSubject, SUBJECT_WORD, writeMailgateConfig } from './real-fixtures.js';
import type { MailServers } from './real-mail.js';
import { Acc, msSince, now, round, type Summary, timeLoop } from './stats.js';

export interface InboxOptions {
  messages: number;
  /** Repeat check_inbox calls per case (capped by maxMs). */
  repeats: number;
  /** Repeat searches per case. */
  searchRepeats: number;
  maxMs: number;
}

interface SearchFigures {
  first_ms: number;
  first_source: string;
  repeat: Summary;
  repeat_source: string;
}

export interface SideReport {
  cold_ms: number;
  /** service: no IDLE watcher, every call resyncs incrementally. mcp: as served (watcher on). */
  repeat: Summary;
  search: { body: SearchFigures; subject: SearchFigures };
}

export interface InboxReport {
  messages: number;
  seed: { ms: number; mb: number; msgs_per_s: number };
  raw: {
    first_select_ms: number;
    full_envelope_fetch_first_ms: number;
    full_envelope_fetch: Summary;
    newest_20_envelopes: Summary;
    search_body: Summary;
    search_subject: Summary;
    search_body_in_uid_list: Summary;
    /** Bytes of the UID SEARCH command mailgate sends (Dovecot refuses lines over imap_max_line_length, 64 KiB by default). */
    uid_list_command_bytes: number;
  };
  /** The local FTS5 query alone (store.searchEmails): what a search costs once no body is left unfetched. */
  service: SideReport & {
    repeat_watched: Summary;
    fts_only: { body: Summary; subject: Summary };
    /** Once the background prefetch has every body: search_email answered by the local index alone. */
    after_prefetch: { prefetch_ms: number; complete: boolean; source: string; body: Summary; subject: Summary };
  };
  mcp: SideReport & { startup_ms: number; spawn_to_first_result_ms: number };
  /** mailgate p50 / raw p50 of the comparable operation. */
  ratios: Record<string, number>;
}

const LIMIT = 20;

export async function benchInbox(mail: MailServers, dir: string, o: InboxOptions): Promise<InboxReport> {
  const big = mail.users.big!;
  const seeded = seedMaildir(mail, 'big', o.messages);
  const seed = { ms: seeded.ms, mb: round(seeded.bytes / 1e6), msgs_per_s: round(o.messages / (seeded.ms / 1000)) };
  process.stderr.write(`bench:   seeded ${o.messages} messages (${seed.mb} MB) into the Maildir in ${Math.round(seed.ms)} ms\n`);
  const config = writeMailgateConfig(join(dir, 'inbox.json'), mail, [{ user: big, mode: 'gated_send' }]);
  const expectHits = (word: string) =>
    Math.min(LIMIT, Array.from({ length: o.messages }, (_, i) => i).filter((i) => i % 100 === (word === BODY_WORD ? 57 : 7)).length);
  const newest = seedSubject(o.messages - 1);

  const raw = await rawSide(mail, o);

  process.stderr.write('bench:   check_inbox / search_email through the services ...\n');
  const serviceDb = join(dir, 'inbox-service.db');
  const listVia = (app: App) => async () =>
    checkList(await checkInbox(app, AGENT, { mailbox: big.address, folder: 'INBOX', unread_only: false, limit: LIMIT }), newest);
  let service: InboxReport['service'];
  let app = await openApp(config, serviceDb);
  try {
    const list = listVia(app);
    const search = async (query: string) => {
      const r = await searchEmail(app, AGENT, { mailbox: big.address, query, limit: LIMIT });
      return checkHits(query, r.emails.length, expectHits(query), r.source);
    };
    const t = now();
    await list();
    const side = await measureSide(round(msSince(t)), list, search, o);
    const fts = (query: string) =>
      summaryOf0(
        timeLoop(
          async () => {
            checkHits(query, (await app.store.searchEmails({ mailbox: big.address, query, limit: LIMIT })).length, expectHits(query), 'cache only');
          },
          o.searchRepeats,
          o.maxMs,
        ),
      );
    const fts_only = { body: await fts(BODY_WORD), subject: await fts(SUBJECT_WORD) };
    await app.close();
    // Reopened on the same cache as `serve` runs: with the IDLE watcher, whose first (incremental) sync marks
    // INBOX current, so a listing needs no IMAP until the server reports a change.
    app = await openApp(config, serviceDb, true);
    const watched = listVia(app);
    await watched();
    const repeat_watched = summaryOf(await timeLoop(watched, o.repeats, o.maxMs));
    // Wait for the background prefetch to fetch every body, then search again: now the index alone answers.
    const waitStart = now();
    while ((await app.store.unfetchedUids(big.address, 'INBOX')).length > 0 && msSince(waitStart) < 180_000) {
      await new Promise((r) => setTimeout(r, 250));
    }
    const complete = (await app.store.unfetchedUids(big.address, 'INBOX')).length === 0;
    let source = '';
    const searchNow = (query: string) =>
      summaryOf0(
        timeLoop(
          async () => {
            const r = await searchEmail(app, AGENT, { mailbox: big.address, query, limit: LIMIT });
            source = checkHits(query, r.emails.length, expectHits(query), r.source);
          },
          o.searchRepeats,
          o.maxMs,
        ),
      );
    const after_prefetch = {
      prefetch_ms: round(msSince(waitStart)),
      complete,
      body: await searchNow(BODY_WORD),
      subject: await searchNow(SUBJECT_WORD),
      source,
    };
    service = { ...side, fts_only, repeat_watched, after_prefetch };
  } finally {
    await app.close();
  }

  process.stderr.write('bench:   check_inbox / search_email through a spawned `mailgate serve` ...\n');
  const spawnStart = now();
  const served: Served = await serveOverStdio(join(dir, 'inbox-mcp.db'), 'agent', { config, expectTools: ['check_inbox', 'search_email'] });
  let mcp: InboxReport['mcp'];
  try {
    const list = async () => {
      const r = await served.call('check_inbox', { mailbox: big.address, limit: LIMIT });
      return checkList(r.emails as { subject: string; snippet: string }[], newest);
    };
    const search = async (query: string) => {
      const r = await served.call('search_email', { mailbox: big.address, query, limit: LIMIT });
      return checkHits(query, (r.emails as unknown[]).length, expectHits(query), String(r.source));
    };
    const t = now();
    await list();
    const cold = round(msSince(t));
    const spawn_to_first_result_ms = round(msSince(spawnStart));
    mcp = { ...(await measureSide(cold, list, search, o)), startup_ms: round(served.startupMs), spawn_to_first_result_ms };
  } finally {
    await served.close();
  }

  const p50 = (s: Summary) => s.p50_ms;
  return {
    messages: o.messages,
    seed,
    raw,
    service,
    mcp,
    ratios: {
      service_repeat_vs_raw_newest_20: round(p50(service.repeat) / p50(raw.newest_20_envelopes)),
      service_watched_repeat_vs_raw_newest_20: round(p50(service.repeat_watched) / p50(raw.newest_20_envelopes)),
      mcp_repeat_vs_raw_newest_20: round(p50(mcp.repeat) / p50(raw.newest_20_envelopes)),
      service_cold_vs_raw_full_fetch: round(service.cold_ms / p50(raw.full_envelope_fetch)),
      mcp_cold_vs_raw_full_fetch: round(mcp.cold_ms / p50(raw.full_envelope_fetch)),
      service_search_body_vs_raw: round(p50(service.search.body.repeat) / p50(raw.search_body)),
      mcp_search_body_vs_raw: round(p50(mcp.search.body.repeat) / p50(raw.search_body)),
      service_search_subject_vs_raw: round(p50(service.search.subject.repeat) / p50(raw.search_subject)),
      mcp_search_subject_vs_raw: round(p50(mcp.search.subject.repeat) / p50(raw.search_subject)),
    },
  };
}

/** Repeat listings and both searches (first call, then repeats), after the cold listing the caller timed. */
async function measureSide(cold_ms: number, list: () => Promise<void>, search: (q: string) => Promise<string>, o: InboxOptions): Promise<SideReport> {
  const repeat = summaryOf(await timeLoop(list, o.repeats, o.maxMs));
  const searchCase = async (query: string): Promise<SearchFigures> => {
    const t = now();
    const first_source = await search(query);
    const first_ms = round(msSince(t));
    let repeat_source = '';
    const r = await timeLoop(
      async () => {
        repeat_source = await search(query);
      },
      o.searchRepeats,
      o.maxMs,
    );
    return { first_ms, first_source, repeat: summaryOf(r), repeat_source };
  };
  const body = await searchCase(BODY_WORD);
  const subject = await searchCase(SUBJECT_WORD);
  return { cold_ms, repeat, search: { body, subject } };
}

async function rawSide(mail: MailServers, o: InboxOptions): Promise<InboxReport['raw']> {
  process.stderr.write('bench:   raw imapflow baselines ...\n');
  const c = await imapAs(mail, mail.users.big!);
  try {
    let t = now();
    const box = await c.mailboxOpen('INBOX');
    const first_select_ms = round(msSince(t));
    if (box.exists !== o.messages) throw new Error(`INBOX has ${box.exists} messages after seeding, expected ${o.messages}`);
    // The fields mailgate's sync fetches, for every message.
    const fullFetch = async () => {
      let count = 0;
      for await (const m of c.fetch('1:*', { uid: true, envelope: true, flags: true, internalDate: true, size: true })) if (m.envelope) count++;
      if (count !== o.messages) throw new Error(`full FETCH returned ${count} envelopes, expected ${o.messages}`);
    };
    t = now();
    await fullFetch();
    const full_envelope_fetch_first_ms = round(msSince(t));
    const full_envelope_fetch = summaryOf(await timeLoop(fullFetch, 3, o.maxMs));
    const newest = seedSubject(o.messages - 1);
    const newest_20_envelopes = summaryOf(
      await timeLoop(
        async () => {
          const got = await c.fetchAll(`${Math.max(1, box.exists - LIMIT + 1)}:*`, { uid: true, envelope: true, flags: true });
          if (!got.some((m) => m.envelope?.subject === newest)) throw new Error('raw FETCH of the newest 20 misses the newest message');
        },
        o.repeats,
        o.maxMs,
      ),
    );
    const uids = ((await c.search({ all: true }, { uid: true })) || []) as number[];
    const uidList = uids.join(',');
    const search = (q: Record<string, unknown>) =>
      summaryOf0(
        timeLoop(
          async () => {
            const hits = (await c.search(q, { uid: true })) || [];
            if (hits.length === 0) throw new Error(`raw SEARCH ${JSON.stringify(q).slice(0, 80)} found nothing`);
          },
          o.searchRepeats,
          o.maxMs,
        ),
      );
    return {
      first_select_ms,
      full_envelope_fetch_first_ms,
      full_envelope_fetch,
      newest_20_envelopes,
      search_body: await search({ body: BODY_WORD }),
      search_subject: await search({ subject: SUBJECT_WORD }),
      search_body_in_uid_list: await search({ uid: uidList, body: BODY_WORD }),
      uid_list_command_bytes: Buffer.byteLength(`A1 UID SEARCH UID ${uidList} BODY ${BODY_WORD}\r\n`),
    };
  } finally {
    await c.logout().catch(() => c.close());
  }
}

function checkList(emails: readonly { subject: string; snippet?: string; text?: string | null }[], newest: string): void {
  if (emails.length === 0 || emails[0]!.subject !== newest) throw new Error(`check_inbox: first email is '${emails[0]?.subject}', expected '${newest}'`);
  const first = emails[0]!;
  if (!(first.snippet ?? first.text ?? '').startsWith('Hello')) throw new Error('check_inbox: the newest email has no body text (snippet)');
}

function checkHits(query: string, got: number, want: number, source: string): string {
  if (got !== want) throw new Error(`search_email '${query}' returned ${got} emails, expected ${want} (source ${source})`);
  return source;
}

const summaryOf = (t: { samples: number[]; wallMs: number }): Summary => {
  const a = new Acc();
  a.add(t);
  return a.summary();
};
const summaryOf0 = async (p: Promise<{ samples: number[]; wallMs: number }>): Promise<Summary> => summaryOf(await p);
