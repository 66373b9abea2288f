/**
 * The MCP client configuration `mailgate init` prints for the person to paste (README "Use it from an MCP
 * client"). The client starts mailgate, so a variable exported in a shell does not reach it: the config path
 * and the password variable go in the client's own `env` block. The password itself is never printed, only a
 * placeholder for the person to replace.
 */
import { invalid } from '../errors.js';
import { type SecretSource, secretVariables } from './init-answers.js';

export const CLIENTS = ['claude-desktop', 'claude-code', 'cursor', 'vscode'] as const;
export type Client = (typeof CLIENTS)[number];

export const CLIENT_LABELS: Readonly<Record<Client, string>> = {
  'claude-desktop': 'Claude Desktop',
  'claude-code': 'Claude Code',
  cursor: 'Cursor',
  vscode: 'VS Code',
};

export function checkClient(value: string | undefined): Client | undefined {
  if (value === undefined || (CLIENTS as readonly string[]).includes(value)) return value as Client | undefined;
  throw invalid('--client', `'${value}' is not a client; use one of ${CLIENTS.join(', ')}`);
}

const placeholder = (name: string) => `<the value of ${name}>`;

/** The text to paste for one client, headed by where it goes. */
function clientSnippet(client: Client, configFile: string, secret: SecretSource): string {
  const variables = secretVariables(secret);
  const env: Record<string, string> = { MAILGATE_CONFIG: configFile };
  for (const v of variables) env[v] = placeholder(v);
  const server = { command: 'npx', args: ['-y', 'mailgate'], env };
  const json = (v: unknown) => JSON.stringify(v, null, 2);
  switch (client) {
    case 'claude-desktop':
      return `Claude Desktop: add to claude_desktop_config.json (Settings, Developer, Edit Config), then restart it:\n${json({ mcpServers: { mailgate: server } })}`;
    case 'cursor':
      return `Cursor: add to .cursor/mcp.json (this project) or ~/.cursor/mcp.json (every project):\n${json({ mcpServers: { mailgate: server } })}`;
    case 'claude-code': {
      const flags = Object.entries(env).map(([k, v]) => `--env ${k}=${shellQuote(v)}`);
      // A command line with a password ends up in the shell's history; the leading space keeps it out in bash and zsh (ignorespace).
      return `Claude Code: run (the leading space keeps it out of most shells' history):\n  claude mcp add mailgate ${flags.join(' ')} -- npx -y mailgate`;
    }
    case 'vscode': {
      // VS Code asks for an `${input:...}` value when it starts the server and keeps it out of mcp.json.
      const inputs = variables.map((v) => ({ type: 'promptString', id: inputId(v), description: `Value of ${v} for mailgate`, password: true }));
      const vsEnv = { ...env, ...Object.fromEntries(variables.map((v) => [v, `\${input:${inputId(v)}}`])) };
      return `VS Code: add to .vscode/mcp.json (VS Code asks for the secret when it starts mailgate):\n${json({
        ...(inputs.length ? { inputs } : {}),
        servers: { mailgate: { type: 'stdio', ...server, env: vsEnv } },
      })}`;
    }
  }
}

/** Every client's snippet, or the one asked for. */
export function clientSnippets(client: Client | undefined, configFile: string, secret: SecretSource): string {
  return (client ? [client] : CLIENTS).map((c) => clientSnippet(c, configFile, secret)).join('\n\n');
}

function shellQuote(v: string): string {
  return /^[A-Za-z0-9_./@:=-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

// Prefixed: a .vscode/mcp.json holds other servers' inputs too.
const inputId = (variable: string) => `mailgate-${variable.toLowerCase().replace(/_/g, '-')}`;
