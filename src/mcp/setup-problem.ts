/**
 * The server `mailgate serve` runs on stdio when its configuration does not load (issue 12). An MCP client
 * (Claude Desktop, Cursor) that launches a server which exits at once shows only "Connection closed", and the
 * reason sits in a log file the person rarely opens. This server finishes the handshake instead, and says what
 * is wrong in the three places a client surfaces: the `instructions`, one tool's result, and a logging
 * notification.
 *
 * Why this is safe to show a model: it is built from the error alone, never from an app, a store or an account,
 * so it can read or send no mail. Its one tool is read-only and returns the same text every time. That text is
 * loadConfig's list of problems, written for a person at a terminal: each names a config key, an environment
 * variable or a file, never a secret (passwords are never echoed, a database URL is shown with its password
 * masked, a webhook URL without its query). Only the first line of each problem is kept, because a JSON syntax
 * problem goes on to quote a line of the config file, and that line could be the one holding a password.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { MailgateError } from '../errors.js';
import { annotationsFor } from './define-tool.js';
import { LazyJsonSchemaValidator } from './lazy-validator.js';

const SETUP_PROBLEM_TOOL = 'setup_problem';

/** The problems, one line each, without the source excerpts that could quote the config file. */
function setupProblems(err: MailgateError): string[] {
  const listed = err.details.problems;
  const problems = Array.isArray(listed) && listed.length ? listed.map(String) : [err.message];
  // A first line that introduces an excerpt ends in ':'; without the excerpt it reads better without one.
  return problems.map((p) => p.split('\n')[0]!.trim().replace(/:$/, '')).filter(Boolean);
}

/** What the person must read: the code, each problem with its fix, and what to do after fixing it. */
function setupProblemText(err: MailgateError): string {
  return [
    `mailgate could not start (${err.code}), so it offers no email tools until this is fixed:`,
    ...setupProblems(err).map((p) => `  - ${p}`),
    'After the fix, restart the MCP client (or reconnect its mailgate server).',
  ].join('\n');
}

export function createSetupProblemServer(err: MailgateError): McpServer {
  const text = setupProblemText(err);
  const server = new McpServer(
    { name: 'mailgate', version: '0.1.0' },
    {
      capabilities: { tools: {}, logging: {} },
      instructions:
        'mailgate, the email server, is not running because of a setup problem only the user can fix. ' +
        'Do not try to send or read mail through it; tell the user this, word for word:\n' +
        text,
      // Never used (it elicits nothing), but the bundle has no SDK default to fall back on: see lazy-validator.ts.
      jsonSchemaValidator: new LazyJsonSchemaValidator(),
    },
  );
  const title = 'Why mailgate cannot start';
  server.registerTool(
    SETUP_PROBLEM_TOOL,
    {
      title,
      description: `mailgate could not start, so it has no email tools. Call this to get the problem and its fix, and show them to the user.`,
      inputSchema: {},
      // The hints of a read-only view that reaches nothing outside this process.
      annotations: annotationsFor('queue', title),
    },
    async (): Promise<CallToolResult> => ({ isError: true, content: [{ type: 'text', text: `${err.code}: ${text}` }] }),
  );
  // A client that shows server log messages (the MCP Inspector, some IDEs) puts the problem in front of the person.
  server.server.oninitialized = () => {
    void server.server.sendLoggingMessage({ level: 'error', logger: 'mailgate', data: `${err.code}: ${text}` }).catch(() => undefined);
  };
  return server;
}
