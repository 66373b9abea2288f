/**
 * The client's elicitation, as src/services/confirm.ts needs it: what the client declared it supports
 * (`capabilities.elicitation.form` / `.url`), and the requests themselves, tied to the tool call that asks
 * (cancelled with it) and given a human's time rather than the SDK's 60 s default.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Elicitor } from '../services/confirm.js';

export function elicitorFor(server: McpServer, extra: RequestHandlerExtra<ServerRequest, ServerNotification>): Elicitor {
  const caps = () => server.server.getClientCapabilities()?.elicitation;
  const options = (timeout: number) => ({ relatedRequestId: extra.requestId, signal: extra.signal, timeout });
  return {
    get form() {
      return caps()?.form !== undefined;
    },
    get url() {
      return caps()?.url !== undefined;
    },
    askForm: (message, requestedSchema, ms) => server.server.elicitInput({ mode: 'form', message, requestedSchema }, options(ms)),
    askUrl: (elicitationId, url, message, ms) => server.server.elicitInput({ mode: 'url', elicitationId, url, message }, options(ms)),
    complete: (elicitationId) => server.server.createElicitationCompletionNotifier(elicitationId)(),
  };
}
