/**
 * Crash points of a real SMTP delivery (src/faults.ts): a spawned `mailgate serve`
 * with MAILGATE_FAULT_POINT kills itself (SIGKILL) at the named point while delivering an autonomous send to
 * the fake SMTP server; a fresh process on the same database (no fault) then recovers the lease. The oracle
 * is the fake server's record: never two copies of a Message-ID, and exactly the expected end state.
 *
 * The lease is shortened with MAILGATE_DELIVERY_LEASE_MS (src/app.ts workerTuning), so the restarted process
 * recovers the dead one's lease after 1 s at the latest (sooner where it sees the owner's pid is gone); no
 * database surgery is needed.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js';
import { tempDir } from '../helpers/tmp.js';
import { holdsFor, isAlive, ok, waitFor } from './harness.js';
import { assertFreshBuild, closeAllProcs, rows, serve, smtpMailbox, unusedPort } from './smtp-harness.js';

const tmp = tempDir('mailgate-e2e-crash-');
const home = tmp.path;
const LEASE_MS = 1000;
const TUNING = { MAILGATE_DELIVERY_LEASE_MS: String(LEASE_MS), MAILGATE_DELIVERY_POLL_MS: '100', MAILGATE_RETRY_BASE_MS: '200' };
let fake: FakeSmtp;
let closedPort = 0;

beforeAll(async () => {
  assertFreshBuild();
  fake = await startFakeSmtp();
  closedPort = await unusedPort();
});

afterAll(async () => {
  await closeAllProcs();
  await fake?.stop();
  tmp.cleanup();
});

type Point = 'after_claim' | 'before_final_dot' | 'after_final_dot' | 'after_accept' | 'after_record';
interface Expectation {
  /** Right after the kill: the row as the dead process left it, and copies at the server. */
  dead: { status: string; marked: boolean; copies: number; attempts: number };
  /** After the restart has recovered it. */
  final: { status: string; attempts: number; copies: number };
}
const POINTS: Record<Point, Expectation> = {
  // FP4: claimed, nothing sent: the lease runs out, the message is requeued and sent exactly once.
  // Attempts count transmissions tried (MAIL FROM), so the dead claim is not one.
  after_claim: { dead: { status: 'sending', marked: false, copies: 0, attempts: 0 }, final: { status: 'sent', attempts: 1, copies: 1 } },
  // FP5: bytes may be on the wire but no final dot: the server discards them, the retry delivers once.
  before_final_dot: { dead: { status: 'sending', marked: false, copies: 0, attempts: 1 }, final: { status: 'sent', attempts: 2, copies: 1 } },
  // FP6: marked transmitting, died before the dot went out: unknown to us, never resent (zero copies).
  after_final_dot: { dead: { status: 'sending', marked: true, copies: 0, attempts: 1 }, final: { status: 'outcome_unknown', attempts: 1, copies: 0 } },
  // FP7: the 250 arrived but was never recorded: outcome_unknown, and above all no second copy.
  after_accept: { dead: { status: 'sending', marked: true, copies: 1, attempts: 1 }, final: { status: 'outcome_unknown', attempts: 1, copies: 1 } },
  // Recorded, then died: nothing left to do.
  after_record: { dead: { status: 'sent', marked: true, copies: 1, attempts: 1 }, final: { status: 'sent', attempts: 1, copies: 1 } },
};

describe.concurrent('a serve process killed at a delivery crash point, then restarted on the same database', () => {
  it.each(Object.entries(POINTS) as [Point, Expectation][])('%s', async (point, want) => {
    const address = `${point.replace(/_/g, '-')}@corp.example`;
    const db = tmp.file(`${point}.db`);
    const config = tmp.file(`${point}.json`);
    writeFileSync(config, JSON.stringify({ mailboxes: [smtpMailbox(address, fake, closedPort)] }));
    const fromHere = () => fake.mailFroms.filter((m) => m.from === address).length;

    const doomed = await serve({ config, db, home, env: { ...TUNING, MAILGATE_FAULT_POINT: point } });
    const call = doomed.call('send_email', { mailbox: address, to: 'ann@dest.example', subject: `crash at ${point}`, text: 'exactly once, please' });
    await expect(call).rejects.toThrow(); // the process died inside the call
    await waitFor(() => !isAlive(doomed.pid), 5000, `the ${point} process to be dead`);
    await doomed.close();

    const [dead] = rows(db);
    expect(rows(db)).toHaveLength(1);
    expect(dead).toMatchObject({ status: want.dead.status, attempts: want.dead.attempts });
    expect(dead!.transmitting_at !== null).toBe(want.dead.marked);
    expect(fake.copies(dead!.message_id_header)).toBe(want.dead.copies);
    const attemptsBefore = fromHere();
    if (point === 'after_claim') expect(attemptsBefore).toBe(0); // died before connecting

    const fresh = await serve({ config, db, home, env: TUNING });
    try {
      await waitFor(
        () => rows(db)[0]!.status === want.final.status && rows(db)[0]!.lease_until === null,
        8000,
        `${point}: ${want.final.status} after restart (is ${rows(db)[0]!.status})`,
      );
      // A lease period and several backoff periods later nothing has changed: no resend, no second copy.
      await holdsFor(
        () => {
          const [r] = rows(db);
          return (
            r!.status === want.final.status &&
            r!.attempts === want.final.attempts &&
            r!.lease_until === null &&
            fake.copies(r!.message_id_header) === want.final.copies
          );
        },
        LEASE_MS + 600,
        `${point}: ${want.final.status} with no resend`,
      );
      const [after] = rows(db);
      expect(after).toMatchObject({ status: want.final.status, attempts: want.final.attempts, lease_until: null });
      expect(fake.copies(after!.message_id_header)).toBe(want.final.copies);
      expect(fake.copies(after!.message_id_header)).toBeLessThanOrEqual(1);
      if (want.final.status === 'outcome_unknown') {
        expect(fromHere()).toBe(attemptsBefore); // the restarted process never opened a transaction for it
        expect(after!.last_error).toMatch(/may have been delivered|not resent/);
      }
      // And as the agent sees it through the restarted server.
      const seen = ok<{ status: string }>(await fresh.call('get_message', { message_id: after!.message_id }));
      expect(seen.status).toBe(want.final.status);
      expect(fresh.stderr()).not.toMatch(/"level":"error"/);
    } finally {
      await fresh.close();
    }
  });
});
