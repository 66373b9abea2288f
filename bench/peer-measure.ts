/**
 * What the peer bench does to each server: the same agent-level operations (list the newest page, search a
 * word, read one email, send one) mapped onto each side's tools, every answer checked against the seeded
 * folder so a fast wrong answer cannot pass. Per size: fresh-process trials (cold start and first listing on
 * a never-synced folder), then one long session per side.
 */
import { BODY_WORD, seedSubject } from './real-fixtures.js';
import { PEER_ACCOUNT, type SideName, type SideSpec, type Spawned, spawnSide } from './peer-servers.js';
import { msSince, now, round } from './stats.js';

/** Nearest-rank percentiles: the table shows medians and p90s. */
export interface Pct {
  n: number;
  p50_ms: number;
  p90_ms: number;
  max_ms: number;
}

function pct(samples: readonly number[]): Pct {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => (s.length === 0 ? NaN : round(s[Math.min(s.length, Math.max(1, Math.ceil(p * s.length))) - 1]!));
  return { n: s.length, p50_ms: at(0.5), p90_ms: at(0.9), max_ms: at(1) };
}

export interface MeasureOptions {
  /** Fresh-process trials per side: cold start and the first check_inbox. */
  trials: number;
  repeats: number;
  searchRepeats: number;
  reads: number;
  sends: number;
  /** How long to wait for mailgate's index to cover the folder before searching it "indexed". */
  indexWaitMs: number;
}

interface Box {
  address: string;
  messages: number;
  sink: string;
}

const LIMIT = 20;

/** The seeded body word is in message i when i % 100 === 57 (bench/real-fixtures.ts). */
const bodyHits = (n: number) => (n > 57 ? Math.floor((n - 58) / 100) + 1 : 0);

interface Ops {
  list(): Promise<string[]>;
  search(): Promise<{ source?: string; indexed?: number; total?: number }>;
  read(id: string): Promise<void>;
  send(i: number): Promise<string>;
}

function opsFor(side: SideName, s: Spawned, box: Box): Ops {
  const newest = seedSubject(box.messages - 1);
  const hits = bodyHits(box.messages);
  const fail = (what: string, got: string) => {
    throw new Error(`${side} ${what}; got: ${got.slice(0, 400)}`);
  };
  if (side === 'peer') {
    const account = PEER_ACCOUNT;
    return {
      async list() {
        const { text } = await s.call('list_emails', { account, mailbox: 'INBOX', pageSize: LIMIT });
        const items = text.split('\n').filter((l) => /^\[\d+\]/.test(l));
        if (!items[0]?.includes(newest)) fail(`list_emails: the first email is not '${newest}'`, text);
        return items.map((l) => /^\[(\d+)\]/.exec(l)![1]!);
      },
      async search() {
        const { text } = await s.call('search_emails', { account, query: BODY_WORD, mailbox: 'INBOX', pageSize: LIMIT });
        const total = Number(/(\d+) result\(s\)/.exec(text)?.[1] ?? 0);
        if (total !== hits) fail(`search_emails '${BODY_WORD}': expected ${hits} results`, text);
        return {};
      },
      async read(id) {
        const { text } = await s.call('get_email', { account, emailId: id, mailbox: 'INBOX' });
        if (!text.includes('Hello,')) fail(`get_email ${id}: no body text`, text);
      },
      async send(i) {
        const { text } = await s.call('send_email', {
          account,
          to: [box.sink],
          subject: `peer bench ${i}`,
          body: `Hello,\n\nmessage ${i} of the peer bench.\n`,
        });
        if (!text.includes('sent successfully')) fail('send_email did not report a send', text);
        return 'sent';
      },
    };
  }
  const st = async (name: string, args: Record<string, unknown>) => {
    const r = await s.call(name, args);
    if (!r.structured) fail(`${name}: no structuredContent`, r.text);
    return r.structured!;
  };
  return {
    async list() {
      const emails = (await st('check_inbox', { mailbox: box.address, folder: 'INBOX', limit: LIMIT })).emails as { email_id: string; subject: string }[];
      if (emails[0]?.subject !== newest) fail(`check_inbox: the first email is not '${newest}'`, JSON.stringify(emails[0]));
      return emails.map((e) => e.email_id);
    },
    async search() {
      const r = await st('search_email', { mailbox: box.address, query: BODY_WORD, folder: 'INBOX', limit: LIMIT });
      const got = (r.emails as unknown[]).length;
      if (got !== Math.min(LIMIT, hits)) fail(`search_email '${BODY_WORD}': expected ${Math.min(LIMIT, hits)} emails`, JSON.stringify(r).slice(0, 300));
      const num = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : undefined);
      return { source: typeof r.source === 'string' ? r.source : undefined, indexed: num('indexed'), total: num('total') };
    },
    async read(id) {
      const r = await st('read_email', { email_id: id });
      if (!String(r.text).startsWith('Hello')) fail(`read_email ${id}: no body text`, JSON.stringify(r).slice(0, 300));
    },
    async send(i) {
      const r = await st('send_email', {
        mailbox: box.address,
        to: [box.sink],
        subject: `mailgate bench ${i}`,
        text: `Hello,\n\nmessage ${i} of the peer bench.\n`,
      });
      return String(r.status);
    },
  };
}

async function timed<T>(op: () => Promise<T>): Promise<[number, T]> {
  const t = now();
  const v = await op();
  return [msSince(t), v];
}

async function loop(n: number, op: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await timed(() => op(i)))[0]);
  return out;
}

export interface TrialsReport {
  cold_start: Record<SideName, Pct>;
  /** The SDK client's handling of the tools/list answer (Spawned.clientListMs). */
  client_tools_list: Record<SideName, Pct>;
  first_check_inbox: Record<SideName, Pct>;
}

/**
 * Fresh process (and, for mailgate, a fresh database: the folder was never synced) per trial, sides
 * alternating so drift on a shared machine hits both: spawn to tools/list, then the first listing at once.
 */
export async function measureTrials(specs: Record<SideName, SideSpec>, box: Box, trials: number): Promise<TrialsReport> {
  const cold: Record<SideName, number[]> = { peer: [], mailgate: [] };
  const client: Record<SideName, number[]> = { peer: [], mailgate: [] };
  const first: Record<SideName, number[]> = { peer: [], mailgate: [] };
  for (let i = 0; i < trials; i++) {
    for (const side of i % 2 === 0 ? (['peer', 'mailgate'] as const) : (['mailgate', 'peer'] as const)) {
      const s = await spawnSide(specs[side]);
      try {
        cold[side].push(s.startupMs);
        client[side].push(s.clientListMs);
        first[side].push((await timed(() => opsFor(side, s, box).list()))[0]);
      } finally {
        await s.close();
      }
    }
    process.stderr.write(
      `bench:     trial ${i + 1}/${trials}: first check_inbox peer ${Math.round(first.peer.at(-1)!)} ms, mailgate ${Math.round(first.mailgate.at(-1)!)} ms\n`,
    );
  }
  return {
    cold_start: { peer: pct(cold.peer), mailgate: pct(cold.mailgate) },
    client_tools_list: { peer: pct(client.peer), mailgate: pct(client.mailgate) },
    first_check_inbox: { peer: pct(first.peer), mailgate: pct(first.mailgate) },
  };
}

export interface SessionReport {
  first_check_inbox_ms: number;
  /** Right after the first listing, while mailgate's backfill and body prefetch run. */
  repeat: Pct;
  search_after_start: Pct;
  /** mailgate only: once its index covers the folder (see `index`). */
  search_indexed: Pct | null;
  index: { waited_ms: number; complete: boolean; by: string } | null;
  /** mailgate's `source` on the last search of each phase ('cache' or 'cache+server'). */
  search_source: { after_start?: string; indexed?: string };
  read: Pct;
  send: Pct;
  send_statuses: Record<string, number>;
  peak_rss_mib: number;
}

/**
 * One process per side, as an agent uses it: first listing, repeat listings, searches right away, reads of
 * the listed emails; then (mailgate) wait for the index and search again; then sends; peak RSS last.
 */
export async function measureSession(spec: SideSpec, box: Box, o: MeasureOptions): Promise<SessionReport> {
  const s = await spawnSide(spec);
  try {
    const ops = opsFor(spec.name, s, box);
    const [first, ids] = await timed(() => ops.list());
    // Repeats first: they are to stay fast while mailgate's backfill and body prefetch are surely still running.
    const repeat = pct(await loop(o.repeats, () => ops.list()));
    const search_source: SessionReport['search_source'] = {};
    const search_after_start = pct(await loop(o.searchRepeats, async () => (search_source.after_start = (await ops.search()).source)));
    const read = pct(await loop(o.reads, (i) => ops.read(ids[i % ids.length]!)));
    let search_indexed: Pct | null = null;
    let index: SessionReport['index'] = null;
    if (spec.name === 'mailgate') {
      index = await waitForIndex(ops, o.indexWaitMs);
      search_indexed = pct(await loop(o.searchRepeats, async () => (search_source.indexed = (await ops.search()).source)));
    }
    const send_statuses: Record<string, number> = {};
    const send = pct(
      await loop(o.sends, async (i) => {
        const status = await ops.send(i);
        send_statuses[status] = (send_statuses[status] ?? 0) + 1;
      }),
    );
    return {
      first_check_inbox_ms: round(first),
      repeat,
      search_after_start,
      search_indexed,
      index,
      search_source,
      read,
      send,
      send_statuses,
      peak_rss_mib: round(s.peakRssMiB()),
    };
  } finally {
    await s.close();
  }
}

/**
 * Polls the search until the index covers the folder: by its `indexed`/`total` fields when the result has
 * them, else by `source` turning 'cache' (every body fetched), else until five searches in a row stay within
 * 30% of each other. Gives up at the deadline and says so in the report.
 */
async function waitForIndex(ops: Ops, deadlineMs: number): Promise<NonNullable<SessionReport['index']>> {
  const start = now();
  const recent: number[] = [];
  let by = 'deadline';
  while (msSince(start) < deadlineMs) {
    const [ms, r] = await timed(() => ops.search());
    if (r.indexed !== undefined && r.total !== undefined) {
      if (r.indexed >= r.total) {
        by = `indexed ${r.indexed}/${r.total}`;
        break;
      }
    } else if (r.source === 'cache') {
      by = "source 'cache'";
      break;
    } else {
      recent.push(ms);
      const last = recent.slice(-5);
      if (last.length === 5 && Math.max(...last) <= 1.3 * Math.min(...last) && msSince(start) > 5_000) {
        by = 'latency stable';
        break;
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return { waited_ms: round(msSince(start)), complete: by !== 'deadline', by };
}
