// An agent session against `mailgate serve --http` (or `npm start`), over Streamable HTTP with a bearer token:
//   MAILGATE_URL=http://127.0.0.1:7464/mcp MAILGATE_TOKEN=mgt_... node examples/http-client.mjs
// The token is an agent token (`npm start` prints one on first run; or `npx mailgate token create --role agent --name me --mailbox agent@mailgate.test`).
// It lists its tools and sends from the gated sandbox mailbox: the send is held for a human.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const url = process.env.MAILGATE_URL ?? 'http://127.0.0.1:7464/mcp';
const token = process.env.MAILGATE_TOKEN;
if (!token) {
  console.error('Set MAILGATE_TOKEN to an agent token (see the comment at the top of this file).');
  process.exit(2);
}

const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
const client = new Client({ name: 'example-http-agent', version: '1.0.0' });
await client.connect(transport);

const { tools } = await client.listTools();
console.log(`tools: ${tools.map((t) => t.name).join(', ')}`);

const sent = await client.callTool({
  name: 'send_email',
  arguments: { mailbox: 'agent@mailgate.test', to: 'you@mailgate.test', subject: 'Hello over HTTP', text: 'This waits for your approval.' },
});
console.log(`send_email: ${JSON.stringify(sent.structuredContent)}`);

await transport.terminateSession(); // ends the server-side session at once (DELETE /mcp)
await client.close();
