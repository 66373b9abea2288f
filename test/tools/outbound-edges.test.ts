/**
 * Outbound edges, attacked through a real SDK client: control characters in header fields are refused
 * naming the field (every C0 control, DEL, C1, U+2028/2029), and a reply to an inbound message whose From is
 * not one plain address (ESMTP parameter smuggling, a line break, NUL, a group, a list) is refused at draft
 * time, with nothing written. A hostile parent's subject and threading headers do not carry over into a reply.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveMessage } from '../../src/services/review.js';
import type { NewEmail } from '../../src/store/inbox.js';
import { type Harness, ok, snapshot, startHarness, textOf, type ToolClient } from './harness.js';

const AGENT = 'agent@mailgate.test';
const YOU = 'you@mailgate.test';
const base = { mailbox: AGENT, to: YOU, subject: 'Subject', text: 'Body' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
});

async function expectRefused(client: ToolClient, tool: string, args: Record<string, unknown>, mustSay: RegExp[]): Promise<string> {
  const before = await snapshot(h.app);
  const r = await client.call(tool, args);
  expect(r.isError, `${tool} should be refused: ${textOf(r)}`).toBe(true);
  for (const re of mustSay) expect(textOf(r)).toMatch(re);
  expect(await snapshot(h.app)).toEqual(before);
  return textOf(r);
}

/** An inbound email in AGENT's INBOX, inserted as the sandbox or an IMAP sync would store it. */
async function inbound(e: Partial<NewEmail>): Promise<string> {
  const id = await h.app.store.insertInbound(
    {
      mailbox: AGENT,
      folder: 'INBOX',
      source: 'sandbox',
      from_addr: 'ann@partner.example',
      from_name: null,
      to: [AGENT],
      cc: [],
      subject: 'Question',
      text: 'Hello?',
      html: null,
      message_id_header: '<q1@partner.example>',
      in_reply_to_header: null,
      references_header: null,
      outbound_message_id: null,
      delivery_role: null,
      date: Date.now(),
      ...e,
    },
    Date.now(),
  );
  if (!id) throw new Error('not inserted');
  return id;
}

const CONTROLS: [string, string][] = [
  ['NUL', '\u0000'],
  ['SOH', '\u0001'],
  ['TAB', '\t'],
  ['ESC', '\u001b'],
  ['US', '\u001f'],
  ['DEL', '\u007f'],
  ['C1 NEL', '\u0085'],
  ['C1 CSI', '\u009b'],
  ['LINE SEPARATOR', '\u2028'],
  ['PARAGRAPH SEPARATOR', '\u2029'],
];

describe('control characters in header fields', () => {
  it.each(CONTROLS)('send_email refuses %s in the subject, naming the field and the character', async (_name, c) => {
    const code = `U\\+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    await expectRefused(h.agent, 'send_email', { ...base, subject: `Invoice${c}paid` }, [
      /subject/,
      new RegExp(`control character \\(${code}\\)`),
      /remove it/,
    ]);
  });

  it('queue_approve refuses an edited subject with NUL; create_mailbox and update_mailbox a display name with ESC', async () => {
    const held = ok(await h.agent.call('send_email', { ...base, subject: 'held for the edit test' }));
    await expectRefused(h.reviewer, 'queue_approve', { message_id: held.message_id, edits: { subject: 'a\u0000b' } }, [/subject/, /U\+0000/]);
    await expectRefused(h.operator, 'create_mailbox', { address: 'new@mailgate.test', display_name: 'Evil\u001b[2J' }, [/display_name/, /U\+001B/]);
    await expectRefused(h.operator, 'update_mailbox', { address: AGENT, display_name: 'x\u0085y', change_reason: 'test' }, [/display_name/, /U\+0085/]);
  });

  it('approving with edits refuses a control character even from a caller that skips the tool schemas', async () => {
    const held = ok(await h.agent.call('send_email', { ...base, subject: 'held for the service test' }));
    const reviewer = { id: 'reviewer:test', roles: ['reviewer'] as const, mailboxes: 'all' as const };
    const err = await approveMessage(h.app, reviewer, held.message_id as string, { edits: { subject: 'ok\u2028Bcc: x@evil.example' } }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'INVALID_INPUT', field: 'edits.subject' });
    expect(String((err as Error).message)).toMatch(/control character \(U\+2028\)/);
    const err2 = await approveMessage(h.app, reviewer, held.message_id as string, { edits: { to: ['a@b.example> NOTIFY=SUCCESS'] } }).catch((e: unknown) => e);
    expect(err2).toMatchObject({ code: 'INVALID_INPUT', field: 'edits.to' });
    expect((await h.app.store.getMessage(held.message_id as string))!.status).toBe('pending');
  });
});

describe('replying to a sender that is not one plain address', () => {
  const hostile: [string, string][] = [
    ['ESMTP parameter smuggling after >', 'foo@psres.net> ORCPT=admin@admin.example'],
    ['a quoted local part smuggling a recipient', '"foo@psres.net> ORCPT=admin@admin.example"@test.example'],
    ['a CR/LF with an SMTP command', 'a@b.example\r\nRCPT TO:<victim@corp.example>'],
    ['a bare LF', 'a@b.example\nx@evil.example'],
    ['a NUL', 'a@b.example\u0000x@evil.example'],
    ['a group', 'undisclosed-recipients:;'],
    ['several addresses', 'a@b.example, c@d.example'],
    ['angle brackets', '<a@b.example>'],
    ['a space', 'a@b.example NOTIFY=SUCCESS'],
    ['empty', ''],
  ];
  it.each(hostile)('reply_email refuses %s at draft time: INVALID_INPUT on email_id, nothing written', async (_name, from) => {
    const email_id = await inbound({ from_addr: from, subject: `from ${_name}` });
    const text = await expectRefused(h.agent, 'reply_email', { email_id, text: 'Thanks!' }, [
      /^INVALID_INPUT: email_id:/,
      /cannot be replied to safely/,
      /send_email/,
    ]);
    // The hostile address itself is not echoed back to the agent.
    if (from.length > 3) expect(text).not.toContain(from);
  });

  it('reply_all refuses when another original recipient is not a plain address', async () => {
    const email_id = await inbound({ cc: ['ok@partner.example', 'x@y.example> NOTIFY=SUCCESS'] });
    await expectRefused(h.agent, 'reply_email', { email_id, text: 'Thanks', reply_all: true }, [/INVALID_INPUT: reply_all:/]);
  });

  it("a plain sender is answered; the parent's control characters and malformed ids do not carry over", async () => {
    const email_id = await inbound({
      subject: 'Urgent\u0000\u2028payment',
      message_id_header: '<p1@partner.example>',
      references_header: '<r0@partner.example>\r\n\t<bad\u0000id@x> garbage <r1@partner.example>',
    });
    const r = ok(await h.agent.call('reply_email', { email_id, text: 'On it.' }));
    expect(r.status).toBe('pending');
    const m = (await h.app.store.getMessage(r.message_id as string))!;
    expect(m.to).toEqual(['ann@partner.example']);
    expect(m.subject).toBe('Re: Urgent  payment');
    expect(m.in_reply_to_header).toBe('<p1@partner.example>');
    expect(m.references_header).toBe('<r0@partner.example> <r1@partner.example> <p1@partner.example>');
  });
});
