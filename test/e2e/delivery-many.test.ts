/**
 * Many deliverers on one database: ten `mailgate serve` processes on one database, each running its own
 * delivery worker against the same real SMTP account (the fake server), while agents send autonomously and
 * short-lived CLI processes approve held mail and deliver inline. Every Message-ID must be accepted by the
 * server exactly once, and every message must end `sent` after a single attempt.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeSmtp, startFakeSmtp } from '../helpers/fake-smtp.js';
import { tempDir } from '../helpers/tmp.js';
import { ok, runCli, waitFor } from './harness.js';
import { assertFreshBuild, closeAllProcs, type Proc, rows, serve, smtpMailbox, unusedPort } from './smtp-harness.js';

const tmp = tempDir('mailgate-e2e-many-');
const home = tmp.path;
const db = tmp.file('shared.db');
const config = tmp.file('mailgate.json');
const AUTO = 'bot@corp.example';
const HELD = 'held@corp.example';
const PROCS = 10;
const AUTO_SENDS = 40;
const HELD_SENDS = 10;
const TUNING = { MAILGATE_DELIVERY_POLL_MS: '100', MAILGATE_RETRY_BASE_MS: '200' };
let fake: FakeSmtp;
let procs: Proc[] = [];

beforeAll(async () => {
  assertFreshBuild();
  fake = await startFakeSmtp();
  const imap = await unusedPort();
  writeFileSync(config, JSON.stringify({ mailboxes: [smtpMailbox(AUTO, fake, imap), smtpMailbox(HELD, fake, imap, 'gated_send')] }));
  // All start at once on a fresh file.
  procs = await Promise.all(Array.from({ length: PROCS }, () => serve({ config, db, home, env: TUNING })));
}, 60_000);

afterAll(async () => {
  await closeAllProcs();
  await fake?.stop();
  tmp.cleanup();
});

describe(`${PROCS} serve processes and CLI approvals delivering over one SMTP account`, () => {
  it(`${AUTO_SENDS} autonomous sends + ${HELD_SENDS} CLI-approved sends: each Message-ID accepted exactly once`, async () => {
    const send = (p: Proc, mailbox: string, i: number) =>
      p.call('send_email', { mailbox, to: [`r${i}@dest.example`], cc: ['cc@dest.example'], subject: `burst ${mailbox} ${i}`, text: `message ${i}` });
    const [auto, held] = await Promise.all([
      Promise.all(Array.from({ length: AUTO_SENDS }, (_, i) => send(procs[i % PROCS]!, AUTO, i))),
      Promise.all(Array.from({ length: HELD_SENDS }, (_, i) => send(procs[(i * 3) % PROCS]!, HELD, i))),
    ]);
    for (const r of auto) expect(['sent', 'queued']).toContain(ok<{ status: string }>(r).status);
    const heldIds = held.map((r) => {
      const s = ok<{ status: string; message_id: string }>(r);
      expect(s.status).toBe('pending');
      return s.message_id;
    });

    // Ten reviewers approve from the terminal at once; each CLI process delivers inline and races the servers.
    const approvals = await Promise.all(
      heldIds.map((id) => runCli(['approve', id, '--config', config, '--db', db, '--as', 'rev'], { home, env: TUNING, timeoutMs: 20_000 })),
    );
    approvals.forEach((a, i) => {
      expect(a.code, `${heldIds[i]}: ${a.stderr}`).toBe(0);
    });

    await waitFor(
      () => rows(db).filter((r) => r.status === 'sent').length === AUTO_SENDS + HELD_SENDS,
      20_000,
      `all ${AUTO_SENDS + HELD_SENDS} sent (now ${JSON.stringify(rows(db).map((r) => r.status))})`,
    );
    const all = rows(db);
    expect(all).toHaveLength(AUTO_SENDS + HELD_SENDS);
    for (const r of all) {
      expect(r, r.message_id).toMatchObject({ status: 'sent', attempts: 1, lease_until: null, last_error: null });
      expect(fake.copies(r.message_id_header), r.message_id_header).toBe(1);
    }
    expect(fake.accepted).toHaveLength(AUTO_SENDS + HELD_SENDS);
    expect(fake.mailFroms).toHaveLength(AUTO_SENDS + HELD_SENDS);
    const envelopes = new Map(fake.accepted.map((a) => [a.messageId, [...a.to].sort()]));
    for (const r of all) expect(envelopes.get(r.message_id_header)).toHaveLength(2);
    // More than one process delivered (the work really was shared and raced), over many connections.
    expect(new Set(fake.accepted.map((a) => a.connection)).size).toBeGreaterThan(1);
    for (const p of procs) expect(p.stderr()).not.toMatch(/"level":"error"|lease was lost/);

    const verify = await runCli(['audit', 'verify', '--json', '--config', config, '--db', db], { home });
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  });
});
