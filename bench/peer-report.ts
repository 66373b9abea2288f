/**
 * The peer bench's table: one row per measure with both sides' median / p90, the mailgate/peer ratio of the
 * medians, and issue 14's goal for it. Ratios are the point: absolute times drift on a shared machine, ratios
 * from the same run much less.
 */
import type { PeerReport, SizeReport } from './peer.js';
import type { Pct } from './peer-measure.js';
import { PEER_PACKAGE } from './peer-servers.js';
import { type Cell, formatTable, round } from './stats.js';

interface Goal {
  text: string;
  /** Judged on mailgate p50 / peer p50, or on mailgate's own p50 for absolute goals. */
  met(ratio: number, mailgateP50: number): boolean | null;
}

const atMost = (x: number, text = `<= ${x}x`): Goal => ({ text, met: (r) => r <= x });
const FASTER_10X = atMost(0.1, '>= 10x faster');
const UNDER_1S: Goal = { text: '< 1 s', met: (_, ms) => ms < 1_000 };
const BOUNDED: Goal = { text: 'bounded (report)', met: () => null };
const REPORT: Goal = { text: 'report', met: () => null };

export interface GoalRow {
  measure: string;
  peer: Pct | number;
  mailgate: Pct | number;
  ratio: number;
  goal: string;
  met: boolean | null;
}

const n = (x: number) => x.toLocaleString('en-US');
const p50 = (x: Pct | number) => (typeof x === 'number' ? x : x.p50_ms);

function goalRow(measure: string, peer: Pct | number, mailgate: Pct | number, goal: Goal): GoalRow {
  const ratio = round(p50(mailgate) / p50(peer));
  return { measure, peer, mailgate, ratio, goal: goal.text, met: goal.met(ratio, p50(mailgate)) };
}

/** The rows the issue's goals are judged on; the first size carries the ratio goals, later sizes the large-folder ones. */
export function goalRows(sizes: readonly SizeReport[]): GoalRow[] {
  const rows: GoalRow[] = [];
  for (const [k, s] of sizes.entries()) {
    const at = `${n(s.messages)} msgs`;
    const { peer: p, mailgate: m } = s.session;
    const idx = m.index ? `${m.index.complete ? m.index.by : 'NOT complete'} after ${n(Math.round(m.index.waited_ms / 1000))} s` : '';
    const src = (x?: string) => (x ? `, source ${x}` : '');
    if (k === 0) {
      rows.push(
        goalRow(`cold start to tools/list answered (${s.cold_start.peer.n} spawns)`, s.cold_start.peer, s.cold_start.mailgate, atMost(0.5)),
        // The client's work, not the server's: it compiles a validator per output schema (the peer's tools have none).
        goalRow('then the SDK client handling that answer (output schemas compiled)', s.client_tools_list.peer, s.client_tools_list.mailgate, REPORT),
      );
    }
    rows.push(
      goalRow(`check_inbox first call, never synced, ${at}`, s.first_check_inbox.peer, s.first_check_inbox.mailgate, k === 0 ? atMost(1) : UNDER_1S),
      goalRow(`check_inbox repeat (${m.repeat.n} calls), ${at}`, p.repeat, m.repeat, FASTER_10X),
      goalRow(`search_email a word, right after start${src(m.search_source.after_start)}, ${at}`, p.search_after_start, m.search_after_start, atMost(1)),
    );
    if (m.search_indexed)
      rows.push(goalRow(`search_email once indexed (${idx}${src(m.search_source.indexed)}), ${at}`, p.search_after_start, m.search_indexed, FASTER_10X));
    if (k === 0) {
      rows.push(
        goalRow(`read_email, ${at}`, p.read, m.read, atMost(1)),
        goalRow(`send_email (mailgate autonomous: ${statuses(m.send_statuses)}), ${at}`, p.send, m.send, atMost(1)),
      );
    }
    rows.push(goalRow(`peak RSS MiB (VmHWM at session end), ${at}`, p.peak_rss_mib, m.peak_rss_mib, k === 0 ? atMost(0.7) : BOUNDED));
  }
  return rows;
}

const statuses = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');

const cell = (x: Pct | number): string => (typeof x === 'number' ? fmt(x) : `${fmt(x.p50_ms)} / ${fmt(x.p90_ms)}`);
function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  return Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(round(x));
}

export function formatPeer(r: PeerReport): string {
  if (r.skipped) return `peer (${PEER_PACKAGE}): SKIPPED, missing: ${r.missing.join('; ')}`;
  const rows = r.goals;
  const table = formatTable(
    ['measure', 'peer p50 / p90 ms', 'mailgate p50 / p90 ms', 'ratio mg/peer', 'goal', 'met?'],
    rows.map((x): Cell[] => [x.measure, cell(x.peer), cell(x.mailgate), `${fmt(x.ratio)}x`, x.goal, x.met === null ? '-' : x.met ? 'yes' : 'NO']),
  );
  const seeds = r.sizes.map((s) => `${n(s.messages)} (${s.seed.mb} MB, seeded ${n(Math.round(s.seed.ms))} ms, Dovecot warmed ${n(Math.round(s.warm_ms))} ms)`);
  const missed = rows.filter((x) => x.met === false).length;
  return [
    `mailgate vs ${r.peer} (${r.node}), both spawned over stdio, same SDK client, same private Dovecot/Postfix; INBOX sizes ${seeds.join(', ')}; ` +
      `load average (1 min) ${r.load_avg_1m.start} at start, ${r.load_avg_1m.end} at end`,
    table,
    `goals met: ${rows.filter((x) => x.met === true).length} of ${rows.filter((x) => x.met !== null).length}${missed ? ` (${missed} not met)` : ''}`,
  ].join('\n');
}
