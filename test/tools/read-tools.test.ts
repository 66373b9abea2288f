/**
 * list_folders and get_attachment on sandbox mailboxes, through a real SDK client: counts that follow the mail,
 * an attachment round trip (bytes as an embedded resource, text as text), the size cap, bad input named by
 * field, and another mailbox's folders and emails refused exactly as unknown ones.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deniedSince, type Harness, inbox, lastSeq, ok, send, startHarness, textOf, type ToolClient } from './harness.js';

const ALICE = 'alice@acme.test';
const BOB = 'bob@acme.test';
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256)), Buffer.from('\n%%EOF\n')]);
const NOTES = 'Line one of the notes.\nZweite Zeile: grüße.\n';

let h: Harness;
beforeEach(async () => {
  h = await startHarness({
    config: {
      mailboxes: [
        { address: ALICE, oversight_mode: 'autonomous' },
        { address: BOB, oversight_mode: 'autonomous' },
      ],
    },
  });
});
afterEach(async () => {
  await h?.close();
});

const folders = async (c: ToolClient, mailbox: string) => ok(await c.call('list_folders', { mailbox })).folders as Record<string, any>[];

async function withAttachments(): Promise<string> {
  await send(h.agent, {
    mailbox: ALICE,
    to: BOB,
    subject: 'Report',
    attachments: [
      { filename: 'report.pdf', content_base64: PDF.toString('base64'), content_type: 'application/pdf' },
      { filename: 'notes.txt', content_base64: Buffer.from(NOTES).toString('base64'), content_type: 'text/plain' },
    ],
  });
  return (await inbox(h.agent, BOB))[0]!.email_id as string;
}

describe('list_folders on a sandbox mailbox', () => {
  it('shows INBOX and Sent with message and unread counts that follow the mail', async () => {
    expect(await folders(h.agent, BOB)).toEqual([
      { path: 'INBOX', name: 'INBOX', delimiter: null, special_use: 'inbox', messages: 0, unread: 0, selectable: true },
      { path: 'Sent', name: 'Sent', delimiter: null, special_use: 'sent', messages: 0, unread: 0, selectable: true },
    ]);
    await send(h.agent, { mailbox: ALICE, to: BOB, subject: 'One' });
    await send(h.agent, { mailbox: ALICE, to: BOB, subject: 'Two' });
    await send(h.agent, { mailbox: BOB, to: ALICE, subject: 'Back' });
    const [two] = await inbox(h.agent, BOB);
    ok(await h.agent.call('tag_email', { email_id: two!.email_id, add_flags: ['\\Seen'], move_to: 'Archive' }));
    const byPath = new Map((await folders(h.agent, BOB)).map((f) => [f.path, f]));
    expect(byPath.get('INBOX')).toMatchObject({ messages: 1, unread: 1 });
    expect(byPath.get('Sent')).toMatchObject({ messages: 1, unread: 0, special_use: 'sent' });
    expect(byPath.get('Archive')).toMatchObject({ messages: 1, unread: 0, special_use: 'archive' });
  });

  it('refuses another mailbox exactly as an unknown one, and audits it', async () => {
    const bob = await h.connect(['agent'], 'bob-agent', [BOB]);
    const seq = await lastSeq(h.app);
    const foreign = await bob.call('list_folders', { mailbox: ALICE });
    const unknown = await bob.call('list_folders', { mailbox: 'nobody@acme.test' });
    expect(foreign.isError && unknown.isError).toBe(true);
    expect(textOf(foreign).replace(ALICE, 'X')).toBe(textOf(unknown).replace('nobody@acme.test', 'X'));
    expect(textOf(foreign)).toMatch(/UNKNOWN_MAILBOX/);
    expect((await deniedSince(h.app, seq)).map((e) => e.mailbox)).toEqual([ALICE]);
  });
});

describe('get_attachment on a sandbox mailbox', () => {
  it('returns a PDF as an embedded resource and a text file as text, byte for byte', async () => {
    const email_id = await withAttachments();
    const pdf = await h.agent.call('get_attachment', { email_id, index: 0 });
    expect(ok(pdf)).toMatchObject({
      email_id,
      index: 0,
      filename: 'report.pdf',
      content_type: 'application/pdf',
      size: PDF.length,
      encoding: 'base64',
      text: null,
    });
    const block = pdf.content.find((b) => b.type === 'resource');
    expect(block).toMatchObject({ type: 'resource', resource: { uri: ok(pdf).uri, mimeType: 'application/pdf' } });
    expect(Buffer.from((block as any).resource.blob, 'base64').equals(PDF)).toBe(true);
    // The bytes travel once, in the resource: not in the JSON the model reads as text.
    expect(textOf(pdf)).not.toContain(PDF.toString('base64').slice(0, 40));
    expect(textOf(pdf)).toMatch(/untrusted/i);

    const txt = ok(await h.agent.call('get_attachment', { email_id, index: 1 }));
    expect(txt).toMatchObject({ filename: 'notes.txt', content_type: 'text/plain', encoding: 'text', text: NOTES, size: Buffer.byteLength(NOTES) });
    const asBytes = await h.agent.call('get_attachment', { email_id, index: 1, as: 'base64' });
    expect(Buffer.from((asBytes.content[1] as any).resource.blob, 'base64').toString('utf8')).toBe(NOTES);
    const forced = await h.agent.call('get_attachment', { email_id, index: 0, as: 'text' });
    expect(textOf(forced)).toMatch(/INVALID_INPUT: as: .*report\.pdf.*not UTF-8.*base64/);
  });

  it('refuses an attachment over the cap with its size and the cap, and a cap over the server maximum', async () => {
    const email_id = await withAttachments();
    const over = await h.agent.call('get_attachment', { email_id, index: 0, max_bytes: 1000 });
    expect(over.isError).toBe(true);
    expect(textOf(over)).toMatch(
      new RegExp(
        `max_bytes: attachment 0 of ${email_id} \\('report.pdf', application/pdf\\) is ${PDF.length} bytes .* over the cap of 1000 bytes; pass a larger max_bytes`,
      ),
    );
    const tooHigh = await h.agent.call('get_attachment', { email_id, index: 0, max_bytes: 1024 * 1024 * 1024 });
    expect(tooHigh.isError).toBe(true);
    expect(textOf(tooHigh)).toMatch(/max_bytes is at most 20971520 at max_bytes/);
  });

  it('names the field at fault: no index, an index past the list, a part id on sandbox mail', async () => {
    const email_id = await withAttachments();
    expect(textOf(await h.agent.call('get_attachment', { email_id }))).toMatch(/INVALID_INPUT: index: give exactly one of index .* or part_id/);
    expect(textOf(await h.agent.call('get_attachment', { email_id, index: 2 }))).toMatch(/INVALID_INPUT: index: .*has 2 attachments \(index 0 to 1\)/);
    expect(textOf(await h.agent.call('get_attachment', { email_id, part_id: '2' }))).toMatch(/INVALID_INPUT: part_id: sandbox mail has no MIME body parts/);
    expect(textOf(await h.agent.call('get_attachment', { email_id, part_id: 'x/../2' }))).toMatch(/part_id/);
    expect(textOf(await h.agent.call('get_attachment', { email_id: 'msg_AAAAAAAAAAAAAAAAAAAA', index: 0 }))).toMatch(/em_.* at email_id/);
  });

  it('refuses another mailbox’s email exactly as an unknown id, and audits it', async () => {
    const email_id = await withAttachments();
    const alice = await h.connect(['agent'], 'alice-agent', [ALICE]);
    const seq = await lastSeq(h.app);
    const unknownId = 'em_AAAAAAAAAAAAAAAAAAAA';
    const foreign = await alice.call('get_attachment', { email_id, index: 0 });
    const unknown = await alice.call('get_attachment', { email_id: unknownId, index: 0 });
    expect(foreign.isError).toBe(true);
    expect(textOf(foreign).replace(email_id, 'X')).toBe(textOf(unknown).replace(unknownId, 'X'));
    expect(foreign.content.some((b) => b.type === 'resource')).toBe(false);
    expect((await deniedSince(h.app, seq)).map((e) => [e.mailbox, e.detail.target])).toEqual([[BOB, email_id]]);
  });
});
