/**
 * `mailgate token create | list | revoke` and what `serve` does with a bad MAILGATE_TOKEN, through the built
 * CLI. The secret is printed once; the database, the audit log and every later output hold only its hash.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, runCli } from './harness.js';

const tmp = tempDir('mailgate-e2e-tokens-');
const db = tmp.file('tokens.db');
const home = tmp.path;
const mg = (args: string[], env: Record<string, string> = {}) => runCli([...args, '--db', db], { home, env });

interface Created {
  token: string;
  name: string;
  roles: string[];
  mailboxes: string[] | 'all';
  token_id: string;
}

async function create(name: string, role: string): Promise<Created> {
  const r = await mg(['token', 'create', '--role', role, '--name', name, '--json', '--all-mailboxes']);
  expect(r.stderr).not.toContain('mailgate:');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Created;
}

beforeAll(() => assertBuilt());
afterAll(() => tmp.cleanup());

// Each CLI run is a fresh Node process (about a second); these tests make many.
describe('mailgate token', { timeout: 90_000 }, () => {
  it('create --json prints the token once, with its name, roles and id; only its sha256 is stored', async () => {
    const alice = await create('alice', 'reviewer');
    expect(Object.keys(alice).sort()).toEqual(['mailboxes', 'name', 'roles', 'token', 'token_id']);
    expect(alice).toMatchObject({ name: 'alice', roles: ['reviewer'], mailboxes: 'all', token_id: expect.stringMatching(/^tok_/) });
    expect(alice.token).toMatch(/^mgt_[A-Za-z0-9]{40}$/);
    const both = await create('desk', 'reviewer,agent');
    expect(both.roles).toEqual(['agent', 'reviewer']);

    const list = await mg(['token', 'list', '--json']);
    expect(list.code).toBe(0);
    const tokens = (JSON.parse(list.stdout) as { tokens: Record<string, unknown>[] }).tokens;
    expect(tokens.map((t) => [t.name, t.roles, t.mailboxes, t.revoked_at])).toEqual([
      ['alice', ['reviewer'], 'all', null],
      ['desk', ['agent', 'reviewer'], 'all', null],
    ]);
    expect(Object.keys(tokens[0]!)).not.toContain('token');
    const table = await mg(['token', 'list']);
    const audit = await mg(['audit', '--json']);
    for (const out of [list.stdout, table.stdout, audit.stdout]) {
      for (const t of [alice, both]) {
        expect(out).not.toContain(t.token);
        expect(out).not.toContain(sha256(t.token));
      }
    }
    const created = (JSON.parse(audit.stdout) as { events: { action: string; detail: Record<string, unknown> }[] }).events
      .filter((e) => e.action === 'token.created')
      .map((e) => e.detail);
    expect(created).toEqual([
      { token_id: alice.token_id, name: 'alice', roles: ['reviewer'], mailboxes: 'all' },
      { token_id: both.token_id, name: 'desk', roles: ['agent', 'reviewer'], mailboxes: 'all' },
    ]);

    const conn = new Database(db, { readonly: true });
    expect(conn.prepare('SELECT secret_hash FROM tokens WHERE name = ?').pluck().get('alice')).toBe(sha256(alice.token));
    conn.close();
    for (const file of [db, `${db}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file).toString('latin1');
      expect(bytes).not.toContain(alice.token);
      expect(bytes).not.toContain(both.token);
    }
  });

  it('names are unique and checked; roles are checked', async () => {
    const again = await mg(['token', 'create', '--role', 'agent', '--name', 'alice', '--all-mailboxes']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/--name: a token named 'alice' already exists/);
    const badName = await mg(['token', 'create', '--role', 'agent', '--name', 'a/b', '--all-mailboxes']);
    expect(badName.code).toBe(2);
    expect(badName.stderr).toMatch(/--name: /);
    const badRole = await mg(['token', 'create', '--role', 'agent,admin', '--name', 'x', '--all-mailboxes']);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/--role: 'admin' is not a role/);
    expect((await mg(['token', 'create', '--name', 'x'])).stderr).toMatch(/--role: /);
  });

  it('revoke by name or by id; revoking twice changes nothing; an unknown token is named as such', async () => {
    const bob = await create('bob', 'agent');
    const carol = await create('carol', 'agent');
    const byName = await mg(['token', 'revoke', 'bob']);
    expect(byName.code).toBe(0);
    expect(byName.stdout).toMatch(/revoked token 'bob'/);
    expect((await mg(['token', 'revoke', carol.token_id])).stdout).toMatch(/revoked token 'carol'/);
    expect((await mg(['token', 'revoke', 'bob'])).stdout).toMatch(/already revoked/);
    const unknown = await mg(['token', 'revoke', 'nobody']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/UNKNOWN_TOKEN: no token named or with id 'nobody'/);
    const audit = JSON.parse((await mg(['audit', '--json'])).stdout) as { events: { action: string; detail: Record<string, unknown> }[] };
    expect(audit.events.filter((e) => e.action === 'token.revoked').map((e) => e.detail.name)).toEqual(['bob', 'carol']);
    expect(JSON.stringify(audit)).not.toContain(bob.token);
  });
});

describe('serve refuses a bad MAILGATE_TOKEN at start, without echoing it', { timeout: 90_000 }, () => {
  it('unknown, revoked and empty tokens exit non-zero with a clear message', async () => {
    const revoked = await create('revoked-one', 'agent');
    await mg(['token', 'revoke', 'revoked-one']);
    const unknown = `mgt_${'Z'.repeat(40)}`;
    const cases: [string, RegExp][] = [
      [unknown, /UNAUTHENTICATED: MAILGATE_TOKEN is not a token of this database/],
      ['not-even-a-token', /UNAUTHENTICATED: .*start with 'mgt_'/],
      [revoked.token, /UNAUTHENTICATED: the token 'revoked-one' was revoked at /],
      ['  ', /UNAUTHENTICATED: MAILGATE_TOKEN is set but empty/],
    ];
    for (const [token, message] of cases) {
      const r = await mg(['serve'], { MAILGATE_TOKEN: token });
      expect(r.code, token).not.toBe(0);
      expect(r.stderr, token).toMatch(message);
      if (token.trim()) expect(r.stderr, token).not.toContain(token);
      expect(r.stdout, token).toBe('');
    }
  });

  it('--role beyond what the token grants is refused; a narrower --role is accepted', async () => {
    const agent = await create('agent-only', 'agent');
    const wider = await mg(['serve', '--role', 'agent,reviewer'], { MAILGATE_TOKEN: agent.token });
    expect(wider.code).toBe(1);
    expect(wider.stderr).toMatch(/FORBIDDEN: --role asks for reviewer, which the token 'agent-only' does not grant \(it grants agent\)/);
    expect(wider.stderr).not.toContain(agent.token);
    // stdin is closed at once, so a server that starts also stops at once, cleanly.
    const narrower = await mg(['serve', '--role', 'agent'], { MAILGATE_TOKEN: (await create('both-roles', 'agent,reviewer')).token });
    expect(narrower.stderr).not.toContain('mailgate:');
    expect(narrower.code).toBe(0);
  });
});

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
