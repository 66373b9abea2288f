/**
 * `mailgate serve`: an MCP server on stdio for one role. stdout carries only JSON-RPC; logs go to stderr.
 * The delivery worker runs in the background, so approvals made by another process are delivered too.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createApp } from '../app.js';
import type { LoadedConfig } from '../config/load.js';
import { MailgateError } from '../errors.js';
import { log } from '../log.js';
import { createMcpServer } from '../mcp/server.js';
import { ROLES, type Role } from '../values.js';

export function parseRole(value: string | undefined): Role {
  const role = (value ?? 'agent').trim();
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new MailgateError('CONFIG_INVALID', `--role: '${role}' is not a role; use one of ${ROLES.join(', ')}`);
  }
  return role as Role;
}

export async function serve(loaded: LoadedConfig, role: Role): Promise<void> {
  const app = await createApp(loaded, { background: true, watch: role === 'agent' });
  const server = createMcpServer(app, { roles: [role], mailboxes: await app.store.listMailboxes() });
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    log('info', 'mailgate shutting down', { why });
    await server.close().catch(() => undefined);
    await app.close().catch(() => undefined);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.stdin.on('end', () => void shutdown('stdin closed'));
  transport.onclose = () => void shutdown('transport closed');
  await server.connect(transport);
  log('info', 'mailgate serving MCP on stdio', { role, database: loaded.databasePath, config: loaded.source ?? 'built-in sandbox default' });
}
