/**
 * `MAILGATE_BENCH_ONLY=peer`: mailgate against the strongest open-source TypeScript peer, @codefuturist/email-mcp
 * (issue 14), both spawned as stdio MCP servers driven by the same SDK client against the same private Dovecot +
 * Postfix, on INBOXes of `sizes` seeded messages (10k and 100k; 2k and 10k quick). The peer lives in a git-ignored
 * bench folder (.bench-peer/, or MAILGATE_BENCH_PEER_DIR), installed on first use. Figures and goals: peer-report.ts.
 */
import { mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BODY_WORD, imapAs, seedMaildir, writeMailgateConfig } from './real-fixtures.js';
import { type MailServers, mailServersAvailable, startMailServers } from './real-mail.js';
import { type MeasureOptions, measureSession, measureTrials, type SessionReport, type TrialsReport } from './peer-measure.js';
import { type GoalRow, goalRows } from './peer-report.js';
import { ensurePeer, mailgateSpec, PEER_PACKAGE, PEER_VERSION, peerSpec, type SideName, type SideSpec, writePeerHome } from './peer-servers.js';
import { msSince, now, round } from './stats.js';

export interface PeerOptions {
  /** INBOX sizes; the first is the one the ratio goals are judged at, the last gives the large first-call figure. */
  sizes: number[];
  measure: MeasureOptions;
  /** Fresh-process trials at the sizes after the first (each mailgate trial may pay a full sync there). */
  largeTrials: number;
}

export interface SizeReport extends TrialsReport {
  messages: number;
  seed: { ms: number; mb: number };
  /** One full envelope FETCH and one BODY SEARCH before anything is timed, so neither side pays Dovecot's first indexing. */
  warm_ms: number;
  session: Record<SideName, SessionReport>;
}

export type PeerReport =
  | { skipped: true; missing: string[] }
  | { skipped: false; peer: string; node: string; load_avg_1m: { start: number; end: number }; sizes: SizeReport[]; goals: GoalRow[] };

export async function benchPeer(dir: string, o: PeerOptions): Promise<PeerReport> {
  const available = mailServersAvailable();
  if (!available.ok) {
    process.stderr.write(`bench: SKIPPING the peer bench (private Dovecot + Postfix on 127.0.0.1); missing: ${available.missing.join('; ')}\n`);
    return { skipped: true, missing: available.missing };
  }
  let peerMain: string;
  try {
    peerMain = ensurePeer(resolve(process.env.MAILGATE_BENCH_PEER_DIR ?? '.bench-peer'));
  } catch (err) {
    // No registry (offline CI): the rest of the bench still runs; the table says why this part did not.
    const why = `${PEER_PACKAGE}@${PEER_VERSION} could not be installed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); needs the npm registry once`;
    process.stderr.write(`bench: SKIPPING the peer bench: ${why}\n`);
    return { skipped: true, missing: [why] };
  }
  const local = (n: number) => `inbox${n}`;
  // Other work on a shared machine skews every figure: the report says how busy it was.
  const loadStart = round(loadavg()[0]!);
  process.stderr.write('bench: peer: starting Dovecot + Postfix ...\n');
  const mail = await startMailServers([...o.sizes.map(local), 'sink']);
  try {
    const sizes: SizeReport[] = [];
    for (const [k, n] of o.sizes.entries()) {
      const user = mail.users[local(n)]!;
      process.stderr.write(`bench: peer: ${n.toLocaleString('en-US')} messages: seeding the Maildir ...\n`);
      const seeded = seedMaildir(mail, local(n), n);
      const warm_ms = await warmDovecot(mail, local(n), n);
      // Sends come from the big mailbox itself (autonomous in mailgate: delivered, not held) to sink@.
      const config = writeMailgateConfig(join(dir, `peer-${n}.json`), mail, [{ user, mode: 'autonomous' }]);
      let dbs = 0;
      const specs: Record<SideName, SideSpec> = {
        peer: peerSpec(peerMain, writePeerHome(mkdirHome(dir, n), mail, user)),
        mailgate: mailgateSpec(config, () => join(dir, `peer-${n}-${++dbs}.db`)),
      };
      const box = { address: user.address, messages: n, sink: mail.users.sink!.address };
      const trials = k === 0 ? o.measure.trials : o.largeTrials;
      process.stderr.write(`bench: peer:   ${trials} fresh-process trials per side (cold start, first check_inbox) ...\n`);
      const t = await measureTrials(specs, box, trials);
      const session = {} as Record<SideName, SessionReport>;
      for (const side of ['peer', 'mailgate'] as const) {
        process.stderr.write(`bench: peer:   ${side} session (repeat, search, read, send, RSS) ...\n`);
        session[side] = await measureSession(specs[side], box, o.measure);
      }
      sizes.push({ messages: n, seed: { ms: seeded.ms, mb: round(seeded.bytes / 1e6) }, warm_ms, ...t, session });
    }
    return {
      skipped: false,
      peer: `${PEER_PACKAGE}@${PEER_VERSION}`,
      node: process.version,
      load_avg_1m: { start: loadStart, end: round(loadavg()[0]!) },
      sizes,
      goals: goalRows(sizes),
    };
  } catch (err) {
    process.stderr.write(`bench: mail server logs (tail):\n${mail.logs().slice(-3000)}\n`);
    throw err;
  } finally {
    await mail.stop();
  }
}

function mkdirHome(dir: string, n: number): string {
  const home = join(dir, `peer-home-${n}`);
  mkdirSync(home, { recursive: true, mode: 0o700 });
  return home;
}

/** Dovecot indexes a Maildir on first sight and caches fetched fields: pay that before either side is timed. */
async function warmDovecot(mail: MailServers, localPart: string, n: number): Promise<number> {
  const t = now();
  const c = await imapAs(mail, mail.users[localPart]!);
  try {
    const box = await c.mailboxOpen('INBOX');
    if (box.exists !== n) throw new Error(`INBOX of ${localPart} has ${box.exists} messages after seeding, expected ${n}`);
    for await (const _ of c.fetch('1:*', { uid: true, envelope: true, flags: true, internalDate: true, size: true })) {
      // drained only: the point is Dovecot's cache
    }
    await c.search({ body: BODY_WORD }, { uid: true });
  } finally {
    await c.logout().catch(() => c.close());
  }
  return round(msSince(t));
}
