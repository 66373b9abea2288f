/**
 * Sessions with the options a stdio server gets from `serve` (a token principal, approval links, the CLI
 * command) and clients with chosen elicitation capabilities, on the app of a tools harness.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import {
  type ClientCapabilities,
  ElicitationCompleteNotificationSchema,
  type ElicitRequest,
  ElicitRequestSchema,
  type ElicitResult,
} from '@modelcontextprotocol/sdk/types.js';
import type { App } from '../../src/app.js';
import { createMcpServer, type ServerOptions } from '../../src/mcp/server.js';
import type { Result } from './harness.js';

export interface Session {
  client: Client;
  /** elicitation/create requests the client received, in order. */
  elicitations: ElicitRequest['params'][];
  /** elicitationIds of notifications/elicitation/complete received. */
  completed: string[];
  call(name: string, args?: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<Result>;
  close(): Promise<void>;
}

export interface ClientOptions {
  name?: string;
  capabilities?: ClientCapabilities;
  /** How the client (standing in for its user) answers elicitation/create. */
  onElicit?: (params: ElicitRequest['params']) => Promise<ElicitResult> | ElicitResult;
}

/** `scope` defaults to every mailbox, as a `--role` session without `--mailbox` has. */
export async function openSession(
  app: App,
  server: Omit<ServerOptions, 'scope'> & Partial<Pick<ServerOptions, 'scope'>>,
  c: ClientOptions = {},
): Promise<Session> {
  const mcp = createMcpServer(app, { scope: 'all', ...server });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: c.name ?? 'test-session', version: '0.0.0' }, { capabilities: c.capabilities ?? {} });
  const elicitations: ElicitRequest['params'][] = [];
  const completed: string[] = [];
  if (c.capabilities?.elicitation) {
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      elicitations.push(req.params);
      return c.onElicit ? c.onElicit(req.params) : { action: 'decline' };
    });
    if (c.capabilities.elicitation.url) {
      client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => void completed.push(n.params.elicitationId));
    }
  }
  await mcp.connect(serverSide);
  await client.connect(clientSide);
  await client.listTools();
  return {
    client,
    elicitations,
    completed,
    call: (name, args = {}, o = {}) => client.callTool({ name, arguments: args }, undefined, { ...o, timeout: 120_000 }) as Promise<Result>,
    async close() {
      await client.close();
      await mcp.close();
    },
  };
}
