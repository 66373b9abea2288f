/**
 * Bad input: every refusal is an isError result whose text names the field at fault, writes nothing, and
 * leaves the server answering the next call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, ok, send, snapshot, startHarness, textOf, type ToolClient } from './harness.js';

const AGENT = 'agent@mailgate.test';
const YOU = 'you@mailgate.test';
const UNKNOWN_MSG = `msg_${'A'.repeat(20)}`;
const UNKNOWN_EMAIL = `em_${'A'.repeat(20)}`;
const base = { mailbox: AGENT, to: YOU, subject: 'Subject', text: 'Body' };

let h: Harness;
let emailId: string;
let heldId: string;
beforeAll(async () => {
  h = await startHarness();
  // Some state for the refusals to leave alone: one delivered email and one held message.
  await send(h.agent, { mailbox: YOU, to: AGENT, subject: 'seed' });
  emailId = (ok(await h.agent.call('check_inbox', { mailbox: AGENT })).emails[0] as { email_id: string }).email_id;
  heldId = (await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'held seed' })).message_id;
});
afterAll(async () => {
  await h?.close();
});

type Case = [label: string, client: 'agent' | 'reviewer' | 'operator', tool: string, args: Record<string, unknown>, mustSay: RegExp[]];

/** Calls, expects a refusal naming the field, nothing written, and a server that still answers. */
async function expectRefused(client: ToolClient, tool: string, args: Record<string, unknown>, mustSay: RegExp[]): Promise<string> {
  const before = await snapshot(h.app);
  const r = await client.call(tool, args);
  expect(r.isError, `${tool} should be refused: ${textOf(r)}`).toBe(true);
  const text = textOf(r);
  for (const re of mustSay) expect(text).toMatch(re);
  expect(text).not.toMatch(/at Object\.|\.ts:\d+|SQLITE|SELECT /); // nothing internal leaks
  expect(await snapshot(h.app)).toEqual(before);
  // The server still answers, on the same connection.
  const next = client.roles.includes('operator') ? await client.call('list_mailboxes', {}) : await client.call('list_pending', { limit: 1 });
  expect(next.isError).toBeFalsy();
  return text;
}

const clients = () => ({ agent: h.agent, reviewer: h.reviewer, operator: h.operator });

describe('refusals that name the field', () => {
  const cases: Case[] = [
    [
      'unknown mailbox lists the known ones',
      'agent',
      'send_email',
      { ...base, mailbox: 'nobody@mailgate.test' },
      [/UNKNOWN_MAILBOX/, /mailbox/, /nobody@mailgate\.test/, /agent@mailgate\.test/, /you@mailgate\.test/],
    ],
    [
      'unknown mailbox in check_inbox',
      'agent',
      'check_inbox',
      { mailbox: 'nobody@mailgate.test' },
      [/UNKNOWN_MAILBOX/, /known mailboxes: .*agent@mailgate\.test/],
    ],
    ['unknown mailbox in list_pending', 'reviewer', 'list_pending', { mailbox: 'nobody@mailgate.test' }, [/UNKNOWN_MAILBOX/]],
    ['unknown mailbox in get_audit', 'operator', 'get_audit', { mailbox: 'nobody@mailgate.test' }, [/UNKNOWN_MAILBOX/]],
    [
      'unknown mailbox in update_mailbox',
      'operator',
      'update_mailbox',
      { address: 'nobody@mailgate.test', oversight_mode: 'autonomous', change_reason: 'x' },
      [/UNKNOWN_MAILBOX/],
    ],
    ['malformed address in a to list', 'agent', 'send_email', { ...base, to: [YOU, 'not-an-address'] }, [/\bto\b/, /not a valid email address/]],
    ['malformed single address', 'agent', 'send_email', { ...base, to: 'not-an-address' }, [/\bto\b/]],
    ['empty single address', 'agent', 'send_email', { ...base, to: '' }, [/\bto\b/]],
    ['CR/LF inside a single address', 'agent', 'send_email', { ...base, to: `${YOU}\r\nBcc: evil@example.com` }, [/\bto\b/]],
    ['malformed cc', 'agent', 'send_email', { ...base, cc: ['bob@@example.com'] }, [/\bcc\b/]],
    ['empty mailbox address', 'agent', 'send_email', { ...base, mailbox: '' }, [/mailbox/, /empty/]],
    ['CR/LF in the subject', 'agent', 'send_email', { ...base, subject: 'Hi\r\nBcc: evil@example.com' }, [/subject/, /line break/]],
    ['LF alone in the subject', 'agent', 'send_email', { ...base, subject: 'Hi\nthere' }, [/subject/, /line break/]],
    ['CR/LF inside an address list entry', 'agent', 'send_email', { ...base, to: [`${YOU}\r\nBcc: evil@example.com`] }, [/\bto\b/, /line break/]],
    ['empty subject', 'agent', 'send_email', { ...base, subject: '' }, [/INVALID_INPUT/, /subject/, /empty/]],
    ['blank subject', 'agent', 'send_email', { ...base, subject: '   ' }, [/subject/]],
    ['no body', 'agent', 'send_email', { mailbox: AGENT, to: YOU, subject: 'No body' }, [/INVALID_INPUT/, /text/, /no body/]],
    ['blank body', 'agent', 'send_email', { ...base, text: '  \n ' }, [/text/]],
    ['oversized text', 'agent', 'send_email', { ...base, text: 'x'.repeat(500_001) }, [/text/, /500000/]],
    ['oversized reply text', 'agent', 'reply_email', { email_id: 'em_AAAAAAAAAAAAAAAAAAAA', text: 'x'.repeat(500_001) }, [/text/, /500000/]],
    ['unknown extra key', 'agent', 'send_email', { ...base, priority: 'high' }, [/priority/, /Unrecognized key/i]],
    ['unknown extra key on a read', 'agent', 'get_message', { message_id: UNKNOWN_MSG, verbose: true }, [/verbose/]],
    ['message_id in the wrong format', 'agent', 'get_message', { message_id: 'abc' }, [/message_id/, /msg_/]],
    ['message_id in the wrong format (review)', 'reviewer', 'queue_approve', { message_id: '12345' }, [/message_id/]],
    ['email_id in the wrong format', 'agent', 'read_email', { email_id: 'msg_AAAAAAAAAAAAAAAAAAAA' }, [/email_id/, /em_/]],
    ['check_inbox limit 0', 'agent', 'check_inbox', { mailbox: AGENT, limit: 0 }, [/limit/]],
    ['check_inbox limit 101', 'agent', 'check_inbox', { mailbox: AGENT, limit: 101 }, [/limit/, /100/]],
    ['list_pending limit 201', 'reviewer', 'list_pending', { limit: 201 }, [/limit/, /200/]],
    ['get_audit limit 1001', 'operator', 'get_audit', { limit: 1001 }, [/limit/, /1000/]],
    ['non-integer limit', 'agent', 'search_email', { mailbox: AGENT, query: 'x', limit: 2.5 }, [/limit/]],
    ['timeout_seconds 51', 'agent', 'mail_wait', { message_id: UNKNOWN_MSG, timeout_seconds: 51 }, [/timeout_seconds/, /50/]],
    ['timeout_seconds 0', 'agent', 'mail_wait', { message_id: UNKNOWN_MSG, timeout_seconds: 0 }, [/timeout_seconds/]],
    ['a cursor list_pending never gave', 'reviewer', 'list_pending', { cursor: 'zzz' }, [/cursor/]],
    ['empty search query', 'agent', 'search_email', { mailbox: AGENT, query: '  ' }, [/query/]],
    ['tag_email with nothing to do', 'agent', 'tag_email', { email_id: 'em_AAAAAAAAAAAAAAAAAAAA' }, [/add_flags/]],
    ['a flag that is not one word', 'agent', 'tag_email', { email_id: 'em_AAAAAAAAAAAAAAAAAAAA', add_flags: ['two words'] }, [/add_flags/]],
    ['reject with an empty reason', 'reviewer', 'queue_reject', { message_id: UNKNOWN_MSG, reason: ' ' }, [/reason/]],
    ['decide with an unknown action', 'reviewer', 'decide_email', { message_id: UNKNOWN_MSG, action: 'maybe' }, [/action/]],
    ['CR/LF in an approval edit', 'reviewer', 'queue_approve', { message_id: UNKNOWN_MSG, edits: { subject: 'a\r\nb' } }, [/subject/, /line break/]],
    ['an approval edit of a field that cannot be edited', 'reviewer', 'queue_approve', { message_id: UNKNOWN_MSG, edits: { from: 'x@y.test' } }, [/from/]],
    [
      'two mode vocabularies at once',
      'operator',
      'create_mailbox',
      { address: 'new@t.test', oversight_mode: 'autonomous', autonomy_level: 2 },
      [/autonomy_level/, /only one/],
    ],
    ['an existing mailbox', 'operator', 'create_mailbox', { address: YOU }, [/MAILBOX_EXISTS/, /you@mailgate\.test/]],
    ['an unknown oversight mode', 'operator', 'update_mailbox', { address: YOU, oversight_mode: 'yolo', change_reason: 'x' }, [/oversight_mode/]],
  ];

  for (const [label, who, tool, args, mustSay] of cases) {
    it(`${tool}: ${label}`, async () => {
      await expectRefused(clients()[who], tool, args, mustSay);
    });
  }
});

describe('refusals about unknown and decided messages', () => {
  it('an unknown but well-formed message_id is UNKNOWN_MESSAGE', async () => {
    const text = await expectRefused(h.agent, 'get_message', { message_id: UNKNOWN_MSG }, [/UNKNOWN_MESSAGE/, new RegExp(UNKNOWN_MSG)]);
    await expectRefused(h.reviewer, 'queue_approve', { message_id: UNKNOWN_MSG }, [/UNKNOWN_MESSAGE/]);
    await expectRefused(h.agent, 'mail_wait', { message_id: UNKNOWN_MSG, timeout_seconds: 1 }, [/UNKNOWN_MESSAGE/]);
    await expectRefused(h.agent, 'cancel_message', { message_id: UNKNOWN_MSG }, [/UNKNOWN_MESSAGE/]);
    // BUG (src/mcp/result.ts errorResult): the MailgateError's field is dropped, so the text never names message_id.
    expect(text).toMatch(/message_id/);
  });

  it('an unknown but well-formed email_id is UNKNOWN_EMAIL', async () => {
    const text = await expectRefused(h.agent, 'read_email', { email_id: UNKNOWN_EMAIL }, [/UNKNOWN_EMAIL/, new RegExp(UNKNOWN_EMAIL)]);
    await expectRefused(h.agent, 'reply_email', { email_id: UNKNOWN_EMAIL, text: 'hi' }, [/UNKNOWN_EMAIL/]);
    await expectRefused(h.agent, 'tag_email', { email_id: UNKNOWN_EMAIL, add_flags: ['\\Seen'] }, [/UNKNOWN_EMAIL/]);
    // BUG (src/mcp/result.ts errorResult): as above, the text never names email_id.
    expect(text).toMatch(/email_id/);
  });

  it('deciding a message that is not pending says its status, and changes nothing', async () => {
    const sent = await send(h.agent, { mailbox: YOU, to: AGENT, subject: 'already sent' });
    expect(sent.status).toBe('sent');
    await expectRefused(h.reviewer, 'queue_approve', { message_id: sent.message_id }, [/NOT_PENDING/, /\bsent\b/, new RegExp(sent.message_id)]);
    await expectRefused(h.reviewer, 'decide_email', { message_id: sent.message_id, action: 'reject', reason: 'x' }, [/NOT_PENDING/, /\bsent\b/]);
    await expectRefused(h.agent, 'cancel_message', { message_id: sent.message_id }, [/NOT_PENDING/, /\bsent\b/]);

    const rejected = await send(h.agent, { mailbox: AGENT, to: YOU, subject: 'to be rejected' });
    ok(await h.reviewer.call('queue_reject', { message_id: rejected.message_id, reason: 'no' }));
    await expectRefused(h.reviewer, 'queue_reject', { message_id: rejected.message_id, reason: 'again' }, [/NOT_PENDING/, /rejected/]);
    await expectRefused(h.reviewer, 'decide_email', { message_id: rejected.message_id, action: 'approve' }, [/NOT_PENDING/, /rejected/]);
    expect(ok(await h.agent.call('get_message', { message_id: rejected.message_id })).status).toBe('rejected');
  });

  it('the held seed message survived every refusal', async () => {
    expect(ok(await h.agent.call('get_message', { message_id: heldId })).status).toBe('pending');
    const e = ok(await h.agent.call('check_inbox', { mailbox: AGENT })).emails as { email_id: string; unread: boolean }[];
    expect(e.find((x) => x.email_id === emailId)?.unread).toBe(true);
  });
});

describe('single-address fields say why an address is refused', () => {
  // BUG (src/values.ts addressList): a union of EmailAddress | EmailAddress[] reports a bare string that fails
  // as zod's generic "Invalid input at to", hiding EmailAddress's own messages (which say how to recover).
  it.each([
    ['malformed', 'not-an-address', /not a valid email address/],
    ['empty', '', /empty/],
    ['CR/LF injection', `${YOU}\r\nBcc: evil@example.com`, /line break/],
  ])('to: %s', async (_label, to, reason) => {
    await expectRefused(h.agent, 'send_email', { ...base, to }, [/\bto\b/, reason]);
  });
});

describe('messages nobody could send', () => {
  // BUG (src/values.ts addressList): an empty list passes, so a send with no recipient at all is accepted.
  it('send_email with an empty to list is refused', async () => {
    await expectRefused(h.agent, 'send_email', { ...base, mailbox: YOU, to: [] }, [/\bto\b/]);
  });

  // BUG (src/services/review.ts approveMessage / src/store/message-ops.ts decideInTx): edits are not held to
  // the rules send_email applies (a recipient, a subject, a body), so a reviewer's edit can produce them.
  it.each([
    ['no recipients', { to: [] }, /\bto\b/],
    ['an empty subject', { subject: '' }, /subject/],
    ['an empty body', { text: '' }, /text/],
  ])('queue_approve edits leaving %s are refused and the message stays pending', async (_label, edits, field) => {
    const held = await send(h.agent, { mailbox: AGENT, to: YOU, subject: `edit me: ${_label}`, text: 'original body' });
    await expectRefused(h.reviewer, 'queue_approve', { message_id: held.message_id, edits }, [field]);
    expect(ok(await h.agent.call('get_message', { message_id: held.message_id })).status).toBe('pending');
  });
});
