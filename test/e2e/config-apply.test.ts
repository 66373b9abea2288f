/**
 * What an operator sets at runtime stays set: spawned CLI commands and servers, one database, one config file.
 * The file's entry for a mailbox is applied when the entry changes; a runtime change (update_mailbox over an
 * operator token, `mailgate mailbox update`) holds through later `approve`, `pending` and `serve` starts, and
 * each such start logs which one holds. Applying the file is audited, a loosening with `loosened: true`.
 */
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, ok, runCli, startServer, textOf, waitFor, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-config-apply-');
const db = tmp.file('apply.db');
const home = tmp.path;
const OPS = 'ops@mailgate.test';
const SALES = 'sales@mailgate.test';
const MON = 'mon@mailgate.test';
const HELD = 'held@mailgate.test';
const INBOX = 'inbox@mailgate.test';

type Entry = Record<string, unknown>;
const entries: Record<string, Entry> = {
  [OPS]: { address: OPS, oversight_mode: 'gated_send' },
  [SALES]: { address: SALES, oversight_mode: 'gated_send' },
  [MON]: { address: MON, oversight_mode: 'monitored' },
  [HELD]: { address: HELD, oversight_mode: 'gated_send' },
  [INBOX]: { address: INBOX, oversight_mode: 'autonomous' },
};
const config = tmp.file('mailgate.json');
const writeEntries = () => writeConfig(config, { mailboxes: Object.values(entries) });
const mg = (...args: string[]) => runCli([...args, '--config', config, '--db', db], { home });

interface LogLine {
  level: string;
  msg: string;
  address?: string;
  detail?: string;
  holds?: string;
  differences?: Record<string, { now: unknown; file: unknown }>;
}
const logLines = (stderr: string): LogLine[] =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
const differsFor = (stderr: string, address: string) =>
  logLines(stderr).filter((l) => l.msg === 'mailbox differs from the config file' && l.address === address);

interface AuditEvent {
  seq: number;
  action: string;
  actor: string;
  mailbox: string | null;
  detail: Record<string, any>;
}
async function audit(): Promise<AuditEvent[]> {
  const r = await mg('audit', '--json', '--limit', '100000');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { events: AuditEvent[] }).events;
}
const mailboxChanges = async (address: string) => (await audit()).filter((e) => e.mailbox === address && e.action.startsWith('mailbox.'));

async function modeOf(address: string): Promise<{ oversight_mode: string; auto_approve_rules: unknown[] }> {
  const r = await mg('mailbox', 'list', '--json');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { mailboxes: { address: string; oversight_mode: string; auto_approve_rules: unknown[] }[] }).mailboxes.find(
    (m) => m.address === address,
  )!;
}

/** A fresh agent server on the same database and file: a send from `mailbox`, and the server's stderr. */
async function agentSends(mailbox: string, subject: string) {
  const agent = await startServer({ role: 'agent', db, config, home });
  try {
    const r = await agent.call('send_email', { mailbox, to: INBOX, subject, text: 'hello' });
    return { r, stderr: agent.stderr() };
  } finally {
    await agent.close();
  }
}

beforeAll(async () => {
  assertBuilt();
  writeEntries();
  const first = await mg('mailbox', 'list');
  expect(first.code, first.stderr).toBe(0);
});

afterAll(async () => {
  await closeAll();
  tmp.cleanup();
});

describe("an operator's runtime change survives restarts with the same config file", () => {
  let heldId: string;

  it('read_only set through update_mailbox with an operator token holds through approve, pending and a new serve', async () => {
    const before = await agentSends(OPS, 'Held before the incident');
    heldId = ok<{ status: string; message_id: string }>(before.r).message_id;

    const created = await mg('token', 'create', '--role', 'operator', '--name', 'ops-operator', '--mailbox', OPS, '--json');
    expect(created.code, created.stderr).toBe(0);
    const token = (JSON.parse(created.stdout) as { token: string }).token;
    const operator = await startServer({ role: 'operator', db, config, home, env: { MAILGATE_TOKEN: token } });
    ok(await operator.call('update_mailbox', { address: OPS, oversight_mode: 'read_only', change_reason: 'incident 42: the agent was prompt-injected' }));
    await operator.close();
    const marker = (await audit()).at(-1)!.seq;

    for (const args of [['approve', heldId], ['pending']]) {
      const r = await mg(...args);
      const lines = differsFor(r.stderr, OPS);
      expect(lines, `${args[0]} stderr:\n${r.stderr}`).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: 'warn', holds: 'runtime', differences: { oversight_mode: { now: 'read_only', file: 'gated_send' } } });
      expect(lines[0]!.detail).toMatch(
        /^the runtime change by token:ops-operator(\/\S+)? at \d{4}-\d\d-\d\dT[\d:.]+Z holds; edit the file's entry to apply it again$/,
      );
      expect((await modeOf(OPS)).oversight_mode).toBe('read_only');
    }

    const after = await agentSends(OPS, 'After the incident');
    expect(after.r.isError, textOf(after.r)).toBe(true);
    expect(after.r.structuredContent).toMatchObject({ status: 'blocked', error: 'action_blocked' });
    await waitFor(() => differsFor(after.stderr, OPS).length > 0, 5000, 'the new server to log which change holds');
    // Only log lines: a start that leaves the runtime change alone adds nothing to the chain about the mailbox.
    expect((await audit()).filter((e) => e.seq > marker && e.action.startsWith('mailbox.'))).toEqual([]);
  });

  it('read_only set with `mailgate mailbox update` holds too, and the log names the person', async () => {
    const r = await mg('mailbox', 'update', SALES, '--mode', 'read_only', '--reason', 'pause outreach', '--as', 'alice');
    expect(r.code, r.stderr).toBe(0);
    const next = await mg('pending');
    expect(next.code, next.stderr).toBe(0);
    expect(differsFor(next.stderr, SALES)[0]?.detail).toMatch(/^the runtime change by cli:alice at .+ holds; edit the file's entry to apply it again$/);
    expect((await modeOf(SALES)).oversight_mode).toBe('read_only');
    const blocked = await agentSends(SALES, 'From paused sales');
    expect(blocked.r.structuredContent).toMatchObject({ status: 'blocked', error: 'action_blocked' });
  });

  it('reformatting the file (key order, indentation) applies nothing', async () => {
    const marker = (await audit()).at(-1)!.seq;
    writeConfig(config, { mailboxes: Object.values(entries).map((e) => Object.fromEntries(Object.entries(e).reverse())) });
    const r = await mg('pending');
    expect(r.code, r.stderr).toBe(0);
    expect((await modeOf(OPS)).oversight_mode).toBe('read_only');
    expect((await audit()).filter((e) => e.seq > marker && e.action.startsWith('mailbox.'))).toEqual([]);
  });

  it('editing the entry applies it at the next start, audited as a loosening against the runtime read_only', async () => {
    entries[OPS] = { address: OPS, oversight_mode: 'gated_all' };
    writeEntries();
    const r = await mg('pending');
    expect(r.code, r.stderr).toBe(0);
    expect(differsFor(r.stderr, OPS)).toEqual([]);
    expect(logLines(r.stderr).find((l) => l.address === OPS)).toMatchObject({ level: 'warn', msg: expect.stringMatching(/loosened/) });
    expect((await modeOf(OPS)).oversight_mode).toBe('gated_all');
    const applied = (await mailboxChanges(OPS)).at(-1)!;
    expect(applied).toMatchObject({
      action: 'mailbox.mode_changed',
      actor: `config:${config}`,
      detail: {
        source: `config:${config}`,
        loosened: true,
        loosenings: ['mode read_only -> gated_all'],
        changes: { oversight_mode: { from: 'read_only', to: 'gated_all' } },
      },
    });

    // Applied once: the next start finds the mailbox in line with an unchanged entry.
    const again = await mg('pending');
    expect(logLines(again.stderr).filter((l) => l.address === OPS)).toEqual([]);
    expect((await mailboxChanges(OPS)).at(-1)!.seq).toBe(applied.seq);
    const held = await agentSends(OPS, 'Under gated_all');
    expect(ok<{ status: string }>(held.r).status).toBe('pending');
  });

  it('a tightening from the file is audited without loosened; auto-approve rules added in the file are a loosening', async () => {
    entries[MON] = { address: MON, oversight_mode: 'gated_send' };
    entries[HELD] = { address: HELD, oversight_mode: 'gated_send', auto_approve_rules: [{ type: 'reply' }] };
    writeEntries();
    const r = await mg('pending');
    expect(r.code, r.stderr).toBe(0);
    const tightened = (await mailboxChanges(MON)).at(-1)!;
    expect(tightened).toMatchObject({
      action: 'mailbox.mode_changed',
      actor: `config:${config}`,
      detail: { source: `config:${config}`, changes: { oversight_mode: { from: 'monitored', to: 'gated_send' } } },
    });
    expect(tightened.detail).not.toHaveProperty('loosened');
    expect(logLines(r.stderr).find((l) => l.address === MON)).toMatchObject({ level: 'info', msg: 'mailbox updated from config' });
    expect((await mailboxChanges(HELD)).at(-1)).toMatchObject({
      action: 'mailbox.mode_changed',
      detail: {
        loosened: true,
        loosenings: ['adds auto-approve rule {"type":"reply"}'],
        changes: { auto_approve_rules: { from: [], to: [{ type: 'reply' }] } },
      },
    });
    expect(logLines(r.stderr).find((l) => l.address === HELD)).toMatchObject({ level: 'warn' });
  });
});

describe('a database from before schema 4 (no digests)', () => {
  it('keeps a mailbox that differs from the file as it is, records the digest, and says which holds', async () => {
    // SALES is read_only at runtime while its entry says gated_send: yesterday's emergency downgrade.
    const marker = (await audit()).at(-1)!.seq; // before the NULLs: every CLI command is a start
    const raw = new Database(db);
    raw.prepare('UPDATE mailboxes SET config_digest = NULL').run();
    raw.close();

    const r = await mg('pending');
    expect(r.code, r.stderr).toBe(0);
    expect(differsFor(r.stderr, SALES)[0]?.detail).toMatch(
      /^the mailbox's current state \(last changed by cli:alice at .+\) holds: no record of the file's entry being applied/,
    );
    // Mailboxes that match their entries just record it: no line about them.
    expect(differsFor(r.stderr, INBOX)).toEqual([]);
    expect((await modeOf(SALES)).oversight_mode).toBe('read_only');
    const check = new Database(db, { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM mailboxes WHERE config_digest IS NULL').get()).toEqual({ n: 0 });
    check.close();
    expect((await audit()).filter((e) => e.seq > marker && e.action.startsWith('mailbox.'))).toEqual([]);

    // From now on the ordinary rule: an edited entry is applied.
    entries[SALES] = { address: SALES, oversight_mode: 'gated_all' };
    writeEntries();
    expect((await mg('pending')).code).toBe(0);
    expect((await modeOf(SALES)).oversight_mode).toBe('gated_all');
  });
});

describe('pending_ttl is bounded: 1 hour to 30 days', () => {
  const bad = (name: string, body: unknown) => runCli(['pending', '--config', writeConfig(tmp.file(name), body), '--db', tmp.file(`${name}.db`)], { home });

  it('refuses a config file entry under 1h, naming the key, the range and the test-only setting', async () => {
    const r = await bad('short.json', { mailboxes: [{ address: OPS, pending_ttl: '30m' }] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('mailboxes[0].pending_ttl: pending_ttl must be from 1h to 30d (got 30m)');
    expect(r.stderr).toContain('testing.allow_short_ttl');
  });

  it('refuses over 30d even with testing.allow_short_ttl, and accepts a short TTL only with it', async () => {
    const long = await bad('long.json', { testing: { allow_short_ttl: true }, mailboxes: [{ address: OPS, pending_ttl: '31d' }] });
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('mailboxes[0].pending_ttl: pending_ttl must be from 1s to 30d (got 31d)');
    const short = await bad('testing.json', { testing: { allow_short_ttl: true }, mailboxes: [{ address: OPS, pending_ttl: '2s' }] });
    expect(short.code, short.stderr).toBe(0);
  });

  it('refuses `mailbox create/update --ttl` outside the range, naming --ttl; accepts the bounds', async () => {
    const cli = (...args: string[]) => runCli([...args, '--db', tmp.file('ttl-cli.db')], { home });
    const under = await cli('mailbox', 'create', 'ttl@mailgate.test', '--ttl', '59m');
    expect(under.code).toBe(2);
    expect(under.stderr).toMatch(/--ttl: must be from 1h to 30d \(got 59m\)/);
    expect((await cli('mailbox', 'create', 'ttl@mailgate.test', '--ttl', '30d')).code).toBe(0);
    const over = await cli('mailbox', 'update', 'ttl@mailgate.test', '--ttl', '31d', '--reason', 'longer');
    expect(over.code).toBe(2);
    expect(over.stderr).toMatch(/--ttl: must be from 1h to 30d \(got 31d\)/);
    const hour = await cli('mailbox', 'update', 'ttl@mailgate.test', '--ttl', '3600', '--reason', 'an hour', '--json');
    expect(hour.code, hour.stderr).toBe(0);
    expect(JSON.parse(hour.stdout)).toMatchObject({ pending_ttl: '1h' });
  });
});
