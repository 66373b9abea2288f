// An agent session against mailgate over stdio, the way an MCP client runs it:
//   node examples/agent-session.mjs            (uses MAILGATE_DB, or ~/.mailgate/mailgate.db)
// It sends from the gated sandbox mailbox and prints what comes back: the send is held for a human.
// Approve it from a terminal with `npx mailgate approve <message_id>`.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/bundle/mailgate.js', import.meta.url));
// The SDK passes the server only a minimal environment unless told otherwise; pass ours so MAILGATE_DB applies.
const transport = new StdioClientTransport({ command: process.execPath, args: [cli, 'serve', '--role', 'agent'], env: process.env, stderr: 'ignore' });
const client = new Client({ name: 'example-agent', version: '1.0.0' });
await client.connect(transport);

const { tools } = await client.listTools();
console.log(`tools: ${tools.map((t) => t.name).join(', ')}`);

const sent = await client.callTool({
  name: 'send_email',
  arguments: { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'Hello from an agent', text: 'This waits for your approval.' },
});
console.log(`send_email: ${JSON.stringify(sent.structuredContent)}`);

const waited = await client.callTool({ name: 'mail_wait', arguments: { message_id: sent.structuredContent.message_id, timeout_seconds: 1 } });
console.log(`mail_wait: status ${waited.structuredContent.status}, timed_out ${waited.structuredContent.timed_out}`);
await client.close();
