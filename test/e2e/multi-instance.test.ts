/**
 * Issue 13 §3: three `mailgate serve --http` instances on one PostgreSQL database deliver a gated_send mailbox
 * through the private Postfix. Agents send through instances 1 and 2, the reviewer approves or rejects through 3
 * and 1, and meanwhile a chaos loop SIGKILLs whichever instance holds a delivery lease, before or after the final
 * dot, then restarts it either at once (it releases its own dead leases) or only once another instance has
 * recovered the message when the lease ran out. The oracle is outside the servers: the recipient's Maildir
 * (copies per Message-ID) and the rows in PostgreSQL.
 *
 * Waves of sends and decisions run until the chaos loop has killed KILLS times (within MAX_WAVES); each wave
 * waits for its deliveries to end, which paces the work by delivery and gives every wave's deliveries a killer.
 */
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MailServers, type MailUser, requireMailServersOrSkip, startMailServers } from '../helpers/mail-servers.js';
import { type Postgres, requirePostgresOrSkip, startPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, holdsFor, ok, runCli, textOf, waitFor } from './harness.js';
import { type ChaosStep, copiesOf, Fleet, type Kill, maildirCopies, postfixQueued, startChaos, startDelayProxy } from './multi-harness.js';

const LEASE_MS = 3000;
const SMTP_DELAY_MS = 25; // each way: a delivery's dialogue takes ~0.5 s, its final dot to 250 ~60 ms
const WAVE = 6;
const MIN_WAVES = 4;
const MAX_WAVES = 14;
const KILLS = 6;
// Where the kill lands and who recovers the message: the restarted instance itself, or a survivor after the lease.
const CHAOS: ChaosStep[] = [
  { window: 'claimed', restart: 'at_once' },
  { window: 'transmitting', restart: 'after_recovery' },
  { window: 'claimed', restart: 'after_recovery' },
  { window: 'transmitting', restart: 'at_once' },
];
const ENV = {
  MAILGATE_DELIVERY_LEASE_MS: String(LEASE_MS),
  MAILGATE_DELIVERY_POLL_MS: '100', // no reliance on cross-instance wake-ups: approvals elsewhere are polled for
  MAILGATE_RETRY_BASE_MS: '200',
  MAILGATE_WATCH_LEASE_MS: '2000',
  MAILGATE_LOG_LEVEL: 'info',
};

interface Planned {
  j: number;
  key: string;
  decision: 'approve' | 'reject';
  id?: string;
}
interface Row {
  message_id: string;
  status: string;
  message_id_header: string;
  lease_owner: string | null;
  transmitting_at: string | null;
  last_error: string | null;
}

const tmp = tempDir('mailgate-e2e-multi-');
const home = tmp.path;
const config = tmp.file('mailgate.json');
let pgc: Postgres | undefined;
let mail: MailServers | undefined;
let proxy: Awaited<ReturnType<typeof startDelayProxy>> | undefined;
let db: pg.Pool;
let url = '';
let fleet: Fleet;
let sender: MailUser;
let dest: MailUser;
const tokens = { agent: '', reviewer: '' };

const rowsOf = async (ids: string[]): Promise<Row[]> =>
  (
    await db.query<Row>('SELECT message_id, status, message_id_header, lease_owner, transmitting_at, last_error FROM messages WHERE message_id = ANY($1)', [
      ids,
    ])
  ).rows;
const IN_FLIGHT = ['approved', 'queued', 'sending'];
/** The instances' log lines about the messages a problem names, for the failure message. */
const linesAbout = (log: string, problems: string[]) => {
  const ids = problems.map((p) => p.split(' ')[0]!);
  return log
    .split('\n')
    .filter((l) => ids.some((id) => l.includes(id)))
    .join('\n');
};

async function token(name: string, role: string): Promise<string> {
  const r = await runCli(['token', 'create', '--role', role, '--name', name, '--json', '--all-mailboxes', '--db', url, '--config', config], { home });
  if (r.code !== 0) throw new Error(`token create failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { token: string }).token;
}

describe.skipIf(!requirePostgresOrSkip() || !requireMailServersOrSkip())('three serve --http instances on one PostgreSQL database', () => {
  beforeAll(async () => {
    assertBuilt();
    [pgc, mail] = await Promise.all([startPostgres(), startMailServers({ users: ['sender', 'dest'] })]);
    [sender, dest] = mail.users as [MailUser, MailUser];
    proxy = await startDelayProxy(mail.smtp.port, SMTP_DELAY_MS);
    url = await pgc.freshDatabase();
    db = new pg.Pool({ connectionString: url, max: 3 });
    const account = { host: '127.0.0.1', secure: false, user: sender.user, password: sender.password };
    const mailbox = {
      address: sender.address,
      oversight_mode: 'gated_send',
      policy: { rate_limits: { per_minute: 1000 } }, // the default 60 a minute is not what this test is about
      // No Sent copy: the oracle is the recipient's Maildir, and an IMAP APPEND would only widen the unknown window.
      imap: { ...account, port: mail.imap.port, save_sent: false, heartbeat_seconds: 5 },
      smtp: { ...account, port: proxy.port, timeout_seconds: 10 },
    };
    writeFileSync(config, JSON.stringify({ mailboxes: [mailbox] }));
    fleet = new Fleet({ config, home, env: { ...ENV, MAILGATE_DATABASE_URL: url } });
    // All three at once on the empty database: migrations and the config's mailbox must be applied once.
    await Promise.all([1, 2, 3].map((n) => fleet.start(n)));
    [tokens.agent, tokens.reviewer] = await Promise.all([token('agent', 'agent'), token('reviewer', 'reviewer')]);
  }, 60_000);

  afterAll(async () => {
    await fleet?.stop();
    await db?.end();
    await proxy?.close();
    await mail?.stop();
    await pgc?.stop();
    tmp.cleanup();
  });

  /** One message: sent through 1 or 2, decided through 3 or 1; a call whose instance died is made again on the other. */
  async function sendAndDecide(p: Planned): Promise<void> {
    const sent = await fleet.call(tokens.agent, p.j % 2 ? [2, 1] : [1, 2], 'send_email', {
      mailbox: sender.address,
      to: dest.address,
      subject: `multi ${p.j}`,
      text: `message ${p.j} of the multi-instance test`,
      idempotency_key: p.key,
    });
    const s = ok<{ message_id: string; status: string }>(sent.result);
    expect(s.status).toBe('pending');
    p.id = s.message_id;
    const args = p.decision === 'approve' ? { message_id: p.id } : { message_id: p.id, reason: 'not this one' };
    const d = await fleet.call(tokens.reviewer, p.j % 3 ? [3, 1] : [1, 3], p.decision === 'approve' ? 'queue_approve' : 'queue_reject', args);
    // Made again after the instance died under it: the first try had committed, so the decision stands already.
    if (d.result.isError) expect(d.tries > 1 && textOf(d.result).includes('NOT_PENDING'), textOf(d.result)).toBe(true);
  }

  /**
   * What each message must have become: rejected and never delivered; or, approved, sent with exactly one copy,
   * unless the last kill of a process holding its lease came after the transmitting mark: then outcome_unknown with
   * at most one copy (never resent). An outcome_unknown with no such kill would mean a live delivery lost its lease.
   */
  function outcomeProblems(rows: Row[], copies: Map<string, number>, decided: Map<string, string>, kills: Kill[]): string[] {
    return rows.flatMap((r) => {
      const n = copiesOf(copies, r.message_id_header);
      const last = kills.flatMap((k) => k.held.filter((h) => h.id === r.message_id)).at(-1);
      const want = decided.get(r.message_id) === 'reject' ? 'rejected' : last?.transmitted ? 'outcome_unknown' : 'sent';
      const copiesOk = want === 'sent' ? n === 1 : want === 'rejected' ? n === 0 : n <= 1;
      const fine = r.status === want && r.lease_owner === null && copiesOk;
      return fine
        ? []
        : [`${r.message_id} should be ${want} (${last ? 'killed' : 'never killed'}): ${r.status}, ${n} copies, lease ${r.lease_owner}, ${r.last_error}`];
    });
  }

  /** Per message one held event and one decision, and as many sent / outcome_unknown events as its final status says. */
  async function auditProblems(rows: Row[], decided: Map<string, string>): Promise<string[]> {
    const audit = await db.query<{ message_id: string; action: string; n: number }>(
      'SELECT message_id, action, count(*)::int AS n FROM audit_events WHERE message_id = ANY($1) GROUP BY 1, 2',
      [rows.map((r) => r.message_id)],
    );
    return rows.flatMap((r) => {
      const count = (action: string) => audit.rows.find((a) => a.message_id === r.message_id && a.action === action)?.n ?? 0;
      const approved = decided.get(r.message_id) === 'approve';
      const want = {
        held: 1,
        approved: approved ? 1 : 0,
        rejected: approved ? 0 : 1,
        sent: r.status === 'sent' ? 1 : 0,
        outcome_unknown: r.status === 'outcome_unknown' ? 1 : 0,
      };
      const got = Object.fromEntries(Object.keys(want).map((k) => [k, count(`message.${k}`)]));
      return JSON.stringify(got) === JSON.stringify(want) ? [] : [`${r.message_id} (${r.status}): audit ${JSON.stringify(got)}`];
    });
  }

  it('every approved message arrives once or is outcome_unknown, every decision is recorded once, and audit verify passes', async () => {
    const started = Date.now();
    const plan: Planned[] = [];
    const killer = startChaos(fleet, db, CHAOS, LEASE_MS);
    try {
      for (let w = 0; w < MAX_WAVES && (w < MIN_WAVES || killer.kills.length < KILLS); w++) {
        const wave = Array.from({ length: WAVE }, (_, k): Planned => {
          const j = w * WAVE + k;
          return { j, key: `multi-${j}`, decision: j % 5 === 3 ? 'reject' : 'approve' };
        });
        plan.push(...wave);
        await Promise.all(wave.map(sendAndDecide));
        const ids = wave.map((p) => p.id!);
        await waitFor(async () => (await rowsOf(ids)).every((r) => !IN_FLIGHT.includes(r.status)), LEASE_MS + 20_000, `wave ${w} to be delivered`);
      }
    } finally {
      await killer.stop();
    }
    const ids = plan.map((p) => p.id!);
    const decided = new Map(plan.map((p) => [p.id!, p.decision]));
    const maildir = mail!.maildir(dest.address);

    // Everything settles: no delivery in flight, Postfix has handed every accepted message to Dovecot.
    await waitFor(async () => (await rowsOf(ids)).every((r) => !IN_FLIGHT.includes(r.status)), LEASE_MS + 20_000, 'every delivery to end');
    await waitFor(
      async () => {
        const copies = maildirCopies(maildir);
        return postfixQueued(mail!.dir) === 0 && (await rowsOf(ids)).every((r) => r.status !== 'sent' || copiesOf(copies, r.message_id_header) > 0);
      },
      20_000,
      'every sent message to arrive and Postfix queue to drain',
    );
    const snapshot = async () =>
      JSON.stringify((await rowsOf(ids)).map((r) => [r.message_id, r.status, r.lease_owner, copiesOf(maildirCopies(maildir), r.message_id_header)]).sort());
    const settled = await snapshot();
    // The claim is that nothing happens any more (no resend of an unknown outcome, no late retry): a lease period.
    await holdsFor(async () => (await snapshot()) === settled, LEASE_MS + 1000, 'no resend and no change after every delivery ended');

    const rows = await rowsOf(ids);
    const copies = maildirCopies(maildir);
    const { kills } = killer;
    expect(rows).toHaveLength(plan.length);
    expect((await db.query('SELECT count(*)::int AS n FROM messages')).rows[0].n, 'a retried send made a second message').toBe(plan.length);
    const problems = outcomeProblems(rows, copies, decided, kills);
    expect(problems, `kills: ${JSON.stringify(kills)}\nlogs:\n${linesAbout(fleet.stderr(), problems)}`).toEqual([]);
    expect(await auditProblems(rows, decided)).toEqual([]);

    const verify = await runCli(['audit', 'verify', '--json', '--db', url, '--config', config], { home, timeoutMs: 30_000 });
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });

    // The chaos really hit deliveries, in both windows.
    expect(kills.length).toBeGreaterThanOrEqual(KILLS);
    expect(kills.filter((k) => k.landed).length, JSON.stringify(kills)).toBeGreaterThanOrEqual(KILLS / 2);
    expect(
      kills.some((k) => k.transmitted),
      JSON.stringify(kills),
    ).toBe(true);
    const errors = fleet
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"level":"error"'));
    expect(errors).toEqual([]);
    const held = kills.flatMap((k) => k.held);
    const unknown = rows.filter((r) => r.status === 'outcome_unknown');
    process.stderr.write(
      `multi-instance: ${plan.length} messages, ${kills.length} kills (${kills.filter((k) => k.landed).length} on their target; ` +
        `${held.length} leases held by the dead, ${held.filter((h) => h.transmitted).length} past the transmitting mark), ` +
        `${rows.filter((r) => r.status === 'sent').length} sent, ${unknown.length} outcome_unknown ` +
        `(${unknown.filter((r) => copiesOf(copies, r.message_id_header) === 1).length} arrived), ` +
        `${fleet.retried} calls made again, ${Math.round((Date.now() - started) / 1000)} s\n`,
    );

    // After all that, a plain SIGTERM still stops every instance cleanly.
    expect(await fleet.stop()).toEqual([0, 0, 0]);
  }, 150_000);
});
