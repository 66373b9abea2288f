/**
 * The fixes `mailgate doctor` gives reach tool errors too (issue 12): an IMAP account with `secure: true` on a
 * plain-text port fails a tool call with the same one-line fix, not only OpenSSL's "wrong version number".
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, closeAll, startServer, textOf, writeConfig } from './harness.js';

const tmp = tempDir('mailgate-e2e-doctor-hints-');
let plain: Server;
const sockets = new Set<Socket>();
let port = 0;

beforeAll(async () => {
  assertBuilt();
  // Greets in plain text at once, as an IMAP server on 143 does: a TLS client reads it as a bad TLS record.
  plain = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.write('* OK plain-text IMAP\r\n');
  });
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  port = (plain.address() as { port: number }).port;
});
afterAll(async () => {
  await closeAll();
  for (const s of sockets) s.destroy();
  await new Promise((r) => plain.close(r));
  tmp.cleanup();
});

describe('connection hints in tool errors', () => {
  it('secure: true on a plain-text IMAP port: the tool error names the setting to change', async () => {
    const server = { host: '127.0.0.1', port, secure: true, user: 'u@example.com', password: 'Hint-Secret-77' };
    const config = writeConfig(tmp.file('config.json'), {
      mailboxes: [{ address: 'u@example.com', oversight_mode: 'gated_send', imap: server, smtp: server }],
    });
    const s = await startServer({ role: 'agent', db: tmp.file('m.db'), home: tmp.path, config });
    const r = await s.call('check_inbox', { mailbox: 'u@example.com' });
    expect(r.isError, textOf(r)).toBe(true);
    expect(textOf(r)).toContain(`wrong version number: port ${port} speaks plain text, not TLS: set \`imap.secure: false\``);
    expect(textOf(r) + s.stderr()).not.toContain('Hint-Secret-77');
  });
});
