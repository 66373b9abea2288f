/**
 * `mailgate demo`: the whole product in one run on a throwaway sandbox database. An agent (a real MCP client
 * over an in-memory transport) sends from a gated mailbox, the send is held, a human approves it through the
 * same service the CLI uses, and the recipient's inbox shows it; a second send is rejected and never arrives.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../app.js';
import { loadConfig } from '../config/load.js';
import { setLogLevel } from '../log.js';
import { createMcpServer } from '../mcp/server.js';
import { verifyAudit } from '../services/audit-log.js';
import { approveMessage, auditTrail, rejectMessage } from '../services/review.js';
import { printLine } from './output.js';

export async function demo(): Promise<void> {
  setLogLevel('warn');
  const dir = mkdtempSync(join(tmpdir(), 'mailgate-demo-'));
  const app = await createApp(loadConfig({ db: join(dir, 'demo.db') }, {}));
  const human = { id: 'cli:demo-human', roles: ['reviewer', 'operator'] as const, mailboxes: 'all' as const };
  try {
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    // The demo's agent also reads you@'s inbox, to show the delivery: it is given every mailbox.
    const server = createMcpServer(app, { roles: ['agent'], scope: 'all' });
    await server.connect(serverSide);
    const agent = new Client({ name: 'demo-agent', version: '1.0.0' });
    await agent.connect(clientSide);
    const call = async (name: string, args: Record<string, unknown>) =>
      (await agent.callTool({ name, arguments: args })).structuredContent as Record<string, unknown>;

    printLine('mailgate demo (sandbox: nothing leaves this machine)\n');
    printLine('Mailboxes: agent@mailgate.test (gated_send), you@mailgate.test (autonomous)');
    const sent = await call('send_email', {
      mailbox: 'agent@mailgate.test',
      to: 'you@mailgate.test',
      subject: 'Quarterly report',
      text: 'Hi, the report is attached in spirit.',
    });
    printLine(`1. agent send_email            -> status ${sent.status} (${sent.reason})`);
    const pending = await call('list_pending', {});
    printLine(`2. list_pending                -> ${(pending.messages as unknown[]).length} held message(s)`);
    const approved = await approveMessage(app, human, String(sent.message_id), { note: 'looks fine' });
    printLine(`3. human approves              -> status ${approved.status}`);
    const inbox = await call('check_inbox', { mailbox: 'you@mailgate.test' });
    const first = (inbox.emails as { subject: string; from: string }[])[0];
    printLine(`4. you@mailgate.test inbox     -> "${first?.subject}" from ${first?.from}`);
    const second = await call('send_email', { mailbox: 'agent@mailgate.test', to: 'someone@example.com', subject: 'Unvetted offer', text: 'Buy now!' });
    await rejectMessage(app, human, String(second.message_id), 'off-brand');
    const waited = await call('mail_wait', { message_id: second.message_id, timeout_seconds: 1 });
    printLine(`5. second send rejected        -> agent's mail_wait sees ${waited.status}: ${waited.reason}`);
    const trail = await auditTrail(app, human, { limit: 100 });
    printLine(`6. audit log                   -> ${trail.length} events, chain ${(await verifyAudit(app, human)).ok ? 'verified' : 'BROKEN'}`);
    printLine('\nNext: add mailgate to your MCP client (README, "Use it from an MCP client").');
    await agent.close();
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
