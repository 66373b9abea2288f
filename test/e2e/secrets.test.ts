/**
 * Secrets never leak: an SMTP password that the server rejects, and an IMAP password for a server that is
 * down, must not appear in stderr logs, tool results, CLI output, the audit log or anywhere in the database
 * file, in plain text or in the base64 forms AUTH PLAIN / LOGIN would carry.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeSmtp, type FakeSmtp } from '../helpers/fake-smtp.js';
import { tempDir } from '../helpers/tmp.js';
import { runCli, textOf, waitFor, writeConfig } from './harness.js';
import { assertFreshBuild, closeAllProcs, rows, serve, unusedPort } from './smtp-harness.js';

const SMTP_SECRET = 'Smtp-S3cret-value-4711';
const IMAP_SECRET = 'Imap-S3cret-value-0815';

function forms(secret: string, user: string): string[] {
  return [secret, Buffer.from(secret).toString('base64'), Buffer.from(`\0${user}\0${secret}`).toString('base64')];
}

describe('secrets stay out of every output', () => {
  const tmp = tempDir();
  let smtp: FakeSmtp;
  let db: string;
  let config: string;

  beforeAll(async () => {
    assertFreshBuild();
    smtp = await startFakeSmtp({ user: 'agent@leak.test', password: 'the-real-password' });
    db = tmp.file('leak.db');
    config = writeConfig(tmp.file('leak.json'), {
      mailboxes: [
        {
          address: 'agent@leak.test',
          oversight_mode: 'autonomous',
          imap: { host: '127.0.0.1', port: await unusedPort(), user: 'agent@leak.test', password_env: 'LEAK_IMAP_PASSWORD', heartbeat_seconds: 1 },
          smtp: { host: '127.0.0.1', port: smtp.port, user: 'agent@leak.test', password_file: tmp.file('smtp-password'), starttls: false, timeout_seconds: 2 },
        },
      ],
    });
    writeFileSync(tmp.file('smtp-password'), `${SMTP_SECRET}\n`);
  });
  afterAll(async () => {
    await closeAllProcs();
    await smtp?.stop();
    tmp.cleanup();
  });

  it('a rejected SMTP login and an unreachable IMAP server leave no password anywhere', async () => {
    const proc = await serve({
      config,
      db,
      home: tmp.path,
      env: { LEAK_IMAP_PASSWORD: IMAP_SECRET, MAILGATE_LOG_LEVEL: 'debug', MAILGATE_DELIVERY_POLL_MS: '100' },
    });
    const sent = await proc.call('send_email', { mailbox: 'agent@leak.test', to: 'someone@elsewhere.test', subject: 'hi', text: 'body' });
    const inbox = await proc.call('check_inbox', { mailbox: 'agent@leak.test' }); // IMAP down: UNAVAILABLE
    expect(inbox.isError).toBe(true);
    expect(textOf(inbox)).toMatch(/^UNAVAILABLE/);
    // A 535 is a configuration problem: the mailbox's deliveries pause (the message stays queued), with the reason.
    const pausedReason = () => {
      const conn = new Database(db, { readonly: true });
      try {
        return conn.prepare("SELECT delivery_paused_reason FROM mailboxes WHERE address = 'agent@leak.test'").pluck().get() as string | null;
      } finally {
        conn.close();
      }
    };
    await waitFor(() => pausedReason() !== null, 10_000, "the 535 to pause the mailbox's deliveries");
    expect(pausedReason()).toMatch(/authentication/i);
    expect(rows(db).map((r) => r.status)).not.toContain('sent');
    expect(smtp.auths.some((a) => a.user === 'agent@leak.test' && !a.ok)).toBe(true);

    const audit = await runCli(['audit', '--json', '--db', db, '--config', config, '--limit', '1000'], {
      home: tmp.path,
      env: { LEAK_IMAP_PASSWORD: IMAP_SECRET },
    });
    const badConfig = await runCli(['pending', '--db', db, '--config', config], { home: tmp.path, env: {} }); // password_env unset
    expect(badConfig.code).toBe(2);
    expect(badConfig.stderr).toContain('LEAK_IMAP_PASSWORD');
    await proc.close();

    const surfaces: Record<string, string> = {
      stderr: proc.stderr(),
      paused_reason: pausedReason() ?? '',
      send_result: JSON.stringify(sent),
      inbox_result: JSON.stringify(inbox),
      audit_cli: audit.stdout + audit.stderr,
      config_error: badConfig.stdout + badConfig.stderr,
      database: readFileSync(db).toString('latin1') + safeRead(`${db}-wal`),
    };
    expect(surfaces.stderr.length).toBeGreaterThan(0);
    for (const [where, text] of Object.entries(surfaces)) {
      for (const secret of [...forms(SMTP_SECRET, 'agent@leak.test'), ...forms(IMAP_SECRET, 'agent@leak.test')]) {
        expect(text.includes(secret), `${where} contains a form of a password`).toBe(false);
      }
    }
  });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path).toString('latin1');
  } catch {
    return '';
  }
}
