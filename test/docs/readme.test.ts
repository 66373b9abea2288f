/**
 * Docs run: the README's tool table, its quick-start commands and examples/ are checked against the real
 * server, so the documentation cannot drift from what agents see.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createMcpServer } from '../../src/mcp/server.js';
import { ROLES, type Role } from '../../src/values.js';
import { tempDir } from '../helpers/tmp.js';

const root = new URL('../../', import.meta.url).pathname;
const dir = tempDir();
let app: App;

async function listTools(role: Role) {
  const [a, b] = InMemoryTransport.createLinkedPair();
  const server = createMcpServer(app, { scope: 'all', roles: [role] });
  await server.connect(b);
  const client = new Client({ name: 'docs-test', version: '1' });
  await client.connect(a);
  const { tools } = await client.listTools();
  await client.close();
  return tools;
}

beforeAll(async () => {
  app = await createApp(loadConfig({ db: dir.file('docs.db') }, {}));
});
afterAll(async () => {
  await app.close();
  dir.cleanup();
});

describe('README tool table', () => {
  it('lists exactly the tools each role sees, with their titles', async () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const table = readme.slice(readme.indexOf('<!-- tools:start -->'), readme.indexOf('<!-- tools:end -->'));
    const rows = [...table.matchAll(/^\| `([a-z_]+)` \| ([a-z, ]+) \| ([a-z]+) \| (.+) \|$/gm)].map((m) => ({
      name: m[1]!,
      roles: m[2]!.split(', ').sort(),
      title: m[4]!,
    }));
    expect(rows.length).toBeGreaterThan(10);
    const seen = new Map<string, { roles: string[]; title: string }>();
    for (const role of ROLES) {
      for (const t of await listTools(role)) {
        const entry = seen.get(t.name) ?? { roles: [], title: t.title ?? '' };
        entry.roles.push(role);
        seen.set(t.name, entry);
      }
    }
    const actual = [...seen].map(([name, e]) => ({ name, roles: e.roles.sort(), title: e.title }));
    expect(rows.sort((a, b) => a.name.localeCompare(b.name))).toEqual(actual.sort((a, b) => a.name.localeCompare(b.name)));
  });
});

describe('tools/list snapshot', () => {
  it('freezes names, descriptions, schemas and annotations per role', async () => {
    const snapshot: Record<string, unknown> = {};
    for (const role of ROLES) snapshot[role] = await listTools(role);
    await expect(JSON.stringify(snapshot, null, 2)).toMatchFileSnapshot('./__snapshots__/tools-list.json');
  });

  it('uses only names every client accepts (^[a-z0-9_]{1,40}$, no double underscore)', async () => {
    for (const role of ROLES) {
      for (const t of await listTools(role)) {
        expect(t.name).toMatch(/^[a-z0-9_]{1,40}$/);
        expect(t.name).not.toContain('__');
      }
    }
  });
});

describe('quick start and examples', () => {
  it('`npx mailgate demo` shows a send held, approved and delivered', () => {
    const out = execFileSync('npx', ['--no-install', 'mailgate', 'demo'], { cwd: root, encoding: 'utf8', env: { ...process.env, HOME: dir.path } });
    expect(out).toMatch(/send_email\s+-> status pending/);
    expect(out).toMatch(/human approves\s+-> status sent/);
    expect(out).toMatch(/you@mailgate\.test inbox\s+-> "Quarterly report" from agent@mailgate\.test/);
    expect(out).toMatch(/mail_wait sees rejected: off-brand/);
    expect(out).toMatch(/chain verified/);
  });

  it('examples/mailgate.config.json is a valid config that resolves every mode vocabulary', async () => {
    const loaded = loadConfig({ config: `${root}examples/mailgate.config.json`, db: dir.file('example.db') }, {});
    const exampleApp = await createApp(loaded);
    try {
      const modes = Object.fromEntries((await exampleApp.store.listMailboxes()).map((m) => [m.address, `${m.oversight_mode} ${m.mode_source}`]));
      expect(modes).toMatchObject({
        'support@acme.test': 'gated_send oversight_mode',
        'ops@acme.test': 'gated_send approval_mode=smart',
        'newsletter@acme.test': 'gated_send autonomy_level=2',
        'archive@acme.test': 'read_only oversight_mode',
      });
    } finally {
      await exampleApp.close();
    }
  });

  it('examples/agent-session.mjs runs and its send is held', () => {
    const out = execFileSync(process.execPath, [`${root}examples/agent-session.mjs`], {
      encoding: 'utf8',
      env: { ...process.env, MAILGATE_DB: dir.file('session.db') },
    });
    expect(out).toMatch(/^tools: send_email, reply_email/m);
    expect(out).toMatch(/send_email: \{"message_id":"msg_\w+","status":"pending"/);
    expect(out).toMatch(/mail_wait: status pending, timed_out true/);
  });

  it('examples/claude-desktop.json starts an agent server with no review or operator tool', async () => {
    const { Client: C } = await import('@modelcontextprotocol/sdk/client/index.js');
    const { StdioClientTransport } = await import('@modelcontextprotocol/sdk/client/stdio.js');
    const cfg = JSON.parse(readFileSync(`${root}examples/claude-desktop.json`, 'utf8')) as { mcpServers: Record<string, { command: string; args: string[] }> };
    // One desktop assistant must never hold the review tools: it could approve its own mail.
    expect(Object.keys(cfg.mcpServers)).toEqual(['mailgate']);
    const s = cfg.mcpServers.mailgate!;
    // The published form, `npx -y mailgate` with no command; run here as this checkout's own bin, offline.
    expect(s).toEqual({ command: 'npx', args: ['-y', 'mailgate'] });
    const client = new C({ name: 'desktop-example', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: s.command,
        args: s.args.map((a) => (a === '-y' ? '--no-install' : a)),
        cwd: root,
        stderr: 'ignore',
        env: { ...process.env, MAILGATE_DB: dir.file('desktop.db') } as Record<string, string>,
      }),
    );
    const names = (await client.listTools()).tools.map((t) => t.name);
    await client.close();
    expect(names).toContain('send_email');
    for (const forbidden of ['queue_approve', 'queue_reject', 'decide_email', 'update_mailbox', 'create_mailbox']) expect(names).not.toContain(forbidden);
  });
});
