/**
 * Calls to tools a session does not list. The SDK answers them ("Tool X not found") before any mailgate code
 * runs, so without this a probe for the review tools from an agent session would leave no trace. Every such
 * call is audited (authz.denied) and then answered by the SDK exactly as before.
 *
 * The SDK has no public hook for this: the tools/call handler McpServer installed is wrapped in place. The SDK
 * is pinned (package.json), and test/tools/authz-audit.test.ts fails if a new version moves the handler.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { log } from '../log.js';

type RawHandler = (request: { params?: { name?: unknown } }, extra: unknown) => Promise<unknown>;

export function auditUnlistedCalls(server: McpServer, listed: ReadonlySet<string>, onUnlisted: (tool: string) => Promise<void>): void {
  const handlers = (server.server as unknown as { _requestHandlers?: Map<string, RawHandler> })._requestHandlers;
  const inner = handlers?.get('tools/call');
  if (!handlers || !inner) throw new Error('MCP SDK: no tools/call handler to wrap; the SDK changed, see src/mcp/unlisted-tools.ts');
  handlers.set('tools/call', async (request, extra) => {
    const name = request.params?.name;
    if (typeof name === 'string' && !listed.has(name)) {
      // Audit first, but never let a failed write change what the caller is told.
      await onUnlisted(name.slice(0, 200)).catch((err: unknown) => log('error', 'could not audit a call to an unlisted tool', { error: String(err) }));
    }
    return inner(request, extra);
  });
}
