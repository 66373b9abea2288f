/**
 * Test harness for the MCP tools: a real app on a real SQLite file, and real SDK clients connected to
 * role-filtered servers through in-memory transport pairs. Several servers share one app, so a test can act
 * as the agent, the reviewer and the operator against the same database.
 */
import { writeFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { type App, createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createMcpServer } from '../../src/mcp/server.js';
import type { Role } from '../../src/values.js';
import type { AuditEvent } from '../../src/store/store.js';
import type { MailboxScope } from '../../src/services/context.js';
import { tempDir } from '../helpers/tmp.js';

export type Result = CallToolResult & { structuredContent?: Record<string, any> };

export interface ToolClient {
  client: Client;
  roles: readonly Role[];
  call(name: string, args?: Record<string, unknown>, opts?: { onprogress?: (p: Progress) => void; timeout?: number }): Promise<Result>;
}

export interface Harness {
  app: App;
  dbPath: string;
  agent: ToolClient;
  reviewer: ToolClient;
  operator: ToolClient;
  connect(roles: readonly Role[], clientName?: string, scope?: MailboxScope): Promise<ToolClient>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Written to a temp JSON file and passed as --config; omitted means the built-in default mailboxes. */
  config?: Record<string, unknown>;
  /** The app's clock (default Date.now), for tests about how long things took. */
  clock?: () => number;
  /** Run the app as a server does (workers, change signals), for tests of what sessions are told. */
  background?: boolean;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = tempDir('mailgate-tools-');
  const dbPath = dir.file('mailgate.db');
  let configPath: string | undefined;
  if (opts.config) {
    configPath = dir.file('mailgate.json');
    writeFileSync(configPath, JSON.stringify(opts.config));
  }
  const app = await createApp(loadConfig({ db: dbPath, config: configPath }, {}), {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.background ? { background: true } : {}),
  });
  const open: { client: Client; server: McpServer }[] = [];

  async function connect(roles: readonly Role[], clientName = `test-${roles.join('+')}`, scope: MailboxScope = 'all'): Promise<ToolClient> {
    const server = createMcpServer(app, { scope, roles, mailboxes: await app.store.listMailboxes() });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: clientName, version: '0.0.0' });
    await server.connect(serverSide);
    await client.connect(clientSide);
    // Like a real client: list first, so callTool validates structuredContent against each outputSchema.
    await client.listTools();
    open.push({ client, server });
    return {
      client,
      roles,
      call: (name, args = {}, o = {}) => client.callTool({ name, arguments: args }, undefined, o) as Promise<Result>,
    };
  }

  const agent = await connect(['agent']);
  const reviewer = await connect(['reviewer']);
  const operator = await connect(['operator']);
  return {
    app,
    dbPath,
    agent,
    reviewer,
    operator,
    connect,
    async close() {
      for (const { client, server } of open) {
        await client.close();
        await server.close();
      }
      await app.close();
      dir.cleanup();
    },
  };
}

/** The text of the first content block. */
export function textOf(r: Result): string {
  const block = r.content[0];
  return block && block.type === 'text' ? block.text : '';
}

/** A successful result's structured content; fails loudly (with the text) when the call was an error. */
export function ok(r: Result): Record<string, any> {
  if (r.isError) throw new Error(`expected success, got isError: ${textOf(r)}`);
  if (!r.structuredContent) throw new Error(`no structuredContent: ${textOf(r)}`);
  return r.structuredContent;
}

/** Everything a refused call must leave untouched, counted through the store. */
/** The authz.denied events after audit seq `afterSeq`, oldest first. */
export async function deniedSince(app: App, afterSeq: number): Promise<AuditEvent[]> {
  return (await app.store.audit({ limit: 1_000_000 })).filter((e) => e.action === 'authz.denied' && e.seq > afterSeq);
}

/** The newest audit seq, to look for what a call adds after it. */
export async function lastSeq(app: App): Promise<number> {
  return (await app.store.audit({ limit: 1 }))[0]?.seq ?? 0;
}

export async function snapshot(app: App): Promise<Record<string, number>> {
  const mailboxes = await app.store.listMailboxes();
  let emails = 0;
  for (const mb of mailboxes) {
    for (const folder of new Set(['INBOX', ...(await app.store.listFolders(mb.address))])) {
      emails += (await app.store.listEmails({ mailbox: mb.address, folder, unread_only: false, limit: 100_000 })).length;
    }
  }
  return {
    // Refusals are audited (authz.denied) but change nothing: they are counted apart, by deniedSince().
    audit: (await app.store.audit({ limit: 1_000_000 })).filter((e) => e.action !== 'authz.denied').length,
    pending: (await app.store.listPending({ limit: 100_000, now: app.clock() })).messages.length,
    captured: (await app.store.listCaptured(100_000)).length,
    mailboxes: mailboxes.length,
    emails,
  };
}

/** Sends and returns the structured result (throws if the call failed). */
export async function send(c: ToolClient, args: Record<string, unknown>): Promise<Record<string, any>> {
  return ok(await c.call('send_email', { subject: 'Hello', text: 'Body text', ...args }));
}

/** The newest INBOX summaries of a mailbox, read through check_inbox. */
export async function inbox(c: ToolClient, mailbox: string): Promise<Record<string, any>[]> {
  return ok(await c.call('check_inbox', { mailbox })).emails as Record<string, any>[];
}
