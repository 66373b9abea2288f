/**
 * Delivery failure paths through spawned `mailgate serve` processes and the CLI, against the scripted fake
 * SMTP server: attempts count transmissions (not crash-recovered leases), an authentication failure pauses
 * the mailbox instead of failing the message, and an operator resolves an outcome_unknown.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, childEnv, ok, runCli, waitFor } from './harness.js';
import { rows, serve, smtpMailbox, useFakeSmtpSuite } from './smtp-harness.js';

const suite = useFakeSmtpSuite('mailgate-e2e-delivery-failures-');
const { tmp } = suite;
const home = tmp.path;
const TUNING = { MAILGATE_DELIVERY_LEASE_MS: '1000', MAILGATE_DELIVERY_POLL_MS: '100', MAILGATE_RETRY_BASE_MS: '300' };

function setup(name: string) {
  const address = `${name}@corp.example`;
  const db = tmp.file(`${name}.db`);
  const config = tmp.file(`${name}.json`);
  writeFileSync(config, JSON.stringify({ mailboxes: [smtpMailbox(address, suite.fake, suite.closedPort)] }));
  return { address, db, config, mailFroms: () => suite.fake.mailFroms.filter((m) => m.from === address).length };
}

/** A serve process that claims the queued message and is killed (SIGKILL) at after_claim, before connecting. */
function crashAfterClaim(config: string, db: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--config', config, '--db', db], {
      cwd: ROOT,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: childEnv(home, { ...TUNING, MAILGATE_FAULT_POINT: 'after_claim' }),
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('serve did not reach after_claim'));
    }, 15_000);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`serve exited with ${signal ?? _code} instead of dying at after_claim`));
    });
  });
}

const auditOf = (db: string, action: string) => {
  const conn = new Database(db, { readonly: true });
  try {
    return conn.prepare('SELECT actor, mailbox, message_id, detail FROM audit_events WHERE action = ? ORDER BY seq').all(action) as {
      actor: string;
      mailbox: string | null;
      message_id: string | null;
      detail: string;
    }[];
  } finally {
    conn.close();
  }
};

describe('attempts', () => {
  it('count transmissions only: three crash-recovered leases, then a 4xx, is attempt 1 and retried', async () => {
    const { address, db, config, mailFroms } = setup('crashy');
    const first = await serve({ config, db, home, env: { ...TUNING, MAILGATE_FAULT_POINT: 'after_claim' } });
    await expect(first.call('send_email', { mailbox: address, to: 'ann@dest.example', subject: 'crashes', text: 'x' })).rejects.toThrow();
    await first.close();
    for (let i = 0; i < 3; i++) await crashAfterClaim(config, db);
    expect(rows(db)[0]).toMatchObject({ status: 'sending', attempts: 0 });
    expect(mailFroms()).toBe(0);

    suite.fake.script.mail = () => ({ do: 'reply', code: 451, message: '4.3.0 try again later' });
    const fresh = await serve({ config, db, home, env: TUNING });
    try {
      // Retried, not "gave up after N attempts": each attempt is one MAIL FROM the server saw.
      await waitFor(() => mailFroms() >= 2 && rows(db)[0]!.status === 'queued', 10_000, 'two transmissions, each deferred');
      const [row] = rows(db);
      expect(row!.last_error).toMatch(/451/);
      expect(row!.last_error).not.toMatch(/gave up/);
      expect(row!.attempts).toBe(mailFroms());
    } finally {
      await fresh.close();
    }
  });
});

describe('an authentication failure (535)', () => {
  it('pauses the mailbox: the message stays queued and uncharged, mailbox.paused says what to check; resume sends it', async () => {
    const { address, db, config, mailFroms } = setup('badauth');
    suite.fake.script.auth = () => ({ do: 'reply', code: 535, message: '5.7.8 authentication credentials invalid' });
    const proc = await serve({ config, db, home, env: TUNING });
    try {
      const sent = ok<{ message_id: string }>(await proc.call('send_email', { mailbox: address, to: 'ann@dest.example', subject: 'paused', text: 'x' }));
      await waitFor(() => auditOf(db, 'mailbox.paused').length === 1, 10_000, 'mailbox.paused');
      const [paused] = auditOf(db, 'mailbox.paused');
      expect(paused).toMatchObject({ actor: 'system:delivery', mailbox: address });
      expect(JSON.parse(paused!.detail)).toMatchObject({
        reason: expect.stringMatching(/authentication failed.*535/),
        hint: expect.stringMatching(/password_env/),
        message_id: sent.message_id,
        waiting: 1,
      });
      const [row] = rows(db);
      expect(row).toMatchObject({ message_id: sent.message_id, status: 'queued', attempts: 0 });
      expect(mailFroms()).toBe(0);
      // Paused means no more tries: the server sees no new logins while the mailbox stays paused.
      // A second send runs a delivery pass before it returns: nothing is claimed while the mailbox is paused.
      const logins = suite.fake.auths.length;
      const second = ok<{ status: string }>(await proc.call('send_email', { mailbox: address, to: 'bob@dest.example', subject: 'also paused', text: 'y' }));
      expect(second.status).toBe('queued');
      expect(suite.fake.auths.length).toBe(logins);
      expect(auditOf(db, 'mailbox.paused')).toHaveLength(1);
      expect(rows(db).map((r) => [r.status, r.attempts])).toEqual([
        ['queued', 0],
        ['queued', 0],
      ]);

      const list = await runCli(['mailbox', 'list', '--config', config, '--db', db, '--json'], { home, env: TUNING });
      expect(JSON.parse(list.stdout).mailboxes[0].deliveries).toMatch(/^paused since .*authentication failed/);

      suite.fake.script.auth = () => undefined; // the operator fixed the account on the server side
      const resumed = await runCli(['mailbox', 'resume', address, '--reason', 'password rotated', '--config', config, '--db', db], { home, env: TUNING });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/resumed deliveries of/);
      await waitFor(() => rows(db).every((r) => r.status === 'sent'), 10_000, 'both sent after resume');
      expect(rows(db).map((r) => r.attempts)).toEqual([1, 1]);
      expect(suite.fake.copies(row!.message_id_header)).toBe(1);
      expect(auditOf(db, 'mailbox.resumed').map((e) => JSON.parse(e.detail).reason)).toEqual(['password rotated']);
    } finally {
      await proc.close();
    }
  });

  it('resumes by itself when the smtp settings changed at the next start', async () => {
    const { address, db, config } = setup('rotated');
    suite.fake.script.auth = () => ({ do: 'reply', code: 535, message: '5.7.8 no' });
    const before = await serve({ config, db, home, env: TUNING });
    ok(await before.call('send_email', { mailbox: address, to: 'ann@dest.example', subject: 'rotated', text: 'x' }));
    await waitFor(() => auditOf(db, 'mailbox.paused').length === 1, 10_000, 'mailbox.paused');
    await before.close();

    suite.fake.script.auth = () => ({ do: 'accept' }); // the server now takes the new password
    // Same settings: still paused after a restart.
    const same = await serve({ config, db, home, env: TUNING });
    // Its send returns after a delivery pass, which left the paused mailbox alone.
    ok(await same.call('send_email', { mailbox: address, to: 'bob@dest.example', subject: 'still paused', text: 'y' }));
    expect(rows(db).map((r) => r.status)).toEqual(['queued', 'queued']);
    expect(suite.fake.mailFroms.filter((m) => m.from === address)).toHaveLength(0);
    await same.close();
    // A changed password (here: the config's) is a changed configuration: deliveries resume.
    const mb = smtpMailbox(address, suite.fake, suite.closedPort);
    writeFileSync(config, JSON.stringify({ mailboxes: [{ ...mb, smtp: { ...mb.smtp, password: 'rotated-secret' } }] }));
    const after = await serve({ config, db, home, env: TUNING });
    try {
      await waitFor(() => rows(db).every((r) => r.status === 'sent'), 10_000, 'sent after the settings changed');
      expect(auditOf(db, 'mailbox.resumed')).toMatchObject([{ actor: 'system:config', mailbox: address }]);
    } finally {
      await after.close();
    }
  });
});

describe('outcome_unknown', () => {
  it('a connection dropped after the final dot: outcome_unknown, then `mailgate resolve` settles it, audited', async () => {
    const { address, db, config } = setup('unknown');
    suite.fake.script.end = () => ({ do: 'drop', record: true });
    const proc = await serve({ config, db, home, env: TUNING });
    let id = '';
    try {
      id = ok<{ message_id: string }>(await proc.call('send_email', { mailbox: address, to: 'ann@dest.example', subject: 'lost reply', text: 'x' })).message_id;
      await waitFor(() => rows(db)[0]!.status === 'outcome_unknown', 10_000, 'outcome_unknown');
    } finally {
      await proc.close();
    }
    const cli = (args: string[]) => runCli([...args, '--config', config, '--db', db], { home, env: TUNING });
    const missing = await cli(['resolve', id, '--reason', 'checked']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/INVALID_INPUT: .*--delivered or --not-delivered/);

    const r = await cli(['resolve', id, '--not-delivered', '--reason', 'not in the relay log for its Message-ID']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/failed \(resolved as not delivered\); to send it, draft it again/);
    expect(rows(db)[0]).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/^not delivered \(resolved by cli:.*\): not in the relay log/) });
    const [resolved] = auditOf(db, 'message.resolved');
    expect(resolved).toMatchObject({ message_id: id, mailbox: address });
    expect(JSON.parse(resolved!.detail)).toMatchObject({ resolution: 'not_delivered', message_id_header: rows(db)[0]!.message_id_header });

    // Settled once: a second answer is refused, and nothing resends it.
    const again = await cli(['resolve', id, '--delivered', '--reason', 'changed my mind']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/NOT_OUTCOME_UNKNOWN: .* is failed, not outcome_unknown/);
    expect(suite.fake.copies(rows(db)[0]!.message_id_header)).toBe(1);
  });
});
