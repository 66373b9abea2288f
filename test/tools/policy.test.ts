/**
 * The policy engine as an agent meets it through a real MCP client: blocks arrive as structured results the
 * agent can act on (code, reason naming what to fix, retry_after, duplicate_of), content holds hold even in an
 * autonomous mailbox, attachments travel through the sandbox or are refused, and the reviewer sees the hits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, inbox, ok, type Result, send, snapshot, startHarness, textOf } from './harness.js';

const AUTO = 'auto@p.test'; // autonomous, tight limits
const PEER = 'peer@p.test'; // autonomous, defaults
const RATE = 'rate@p.test'; // autonomous, one send a minute
const NODUP = 'nodup@p.test'; // autonomous, dedupe off over the global window
const GITHUB_TOKEN = `ghp_${'Zq3'.repeat(12)}`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    config: {
      policy: { dedupe_window: '10m' },
      suppress: ['blocked@outside.test', 'spam.example'],
      mailboxes: [
        {
          address: AUTO,
          oversight_mode: 'autonomous',
          policy: {
            max_recipients: 3,
            max_attachments: 2,
            max_attachment_bytes: 1000,
            max_total_attachment_bytes: 1500,
            blocked_domains: ['evil.example'],
          },
        },
        { address: PEER, oversight_mode: 'autonomous' },
        { address: RATE, oversight_mode: 'autonomous', policy: { rate_limits: { per_minute: 1 }, dedupe_window: 0 } },
        { address: NODUP, oversight_mode: 'autonomous', policy: { dedupe_window: 0 } },
      ],
    },
  });
});
afterAll(async () => {
  await h?.close();
});

let serial = 0;
const subject = () => `Subject ${++serial}`;
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const message = async (id: string) => ok(await h.agent.call('get_message', { message_id: id }));

/** A refused send: isError, the structured block, and nothing sent or captured for it. */
async function blocked(r: Result, error: string): Promise<Record<string, any>> {
  expect(r.isError, textOf(r)).toBe(true);
  const b = r.structuredContent!;
  expect(b).toMatchObject({ status: 'blocked', error });
  expect(b.message_id).toMatch(/^msg_/);
  expect(textOf(r)).toContain(error);
  expect((await message(b.message_id)).status).toBe('blocked');
  expect((await h.app.store.listCaptured(1000)).filter((c) => c.message_id === b.message_id)).toEqual([]);
  return b;
}

describe('blocks reach the agent as structured results', () => {
  it.each([
    ['a suppressed address', 'suppressed_recipient', ['blocked@outside.test'], /blocked@outside\.test/],
    ['a suppressed domain (subdomain, upper case)', 'suppressed_recipient', ['X@Mail.SPAM.example'], /x@mail\.spam\.example/],
    ['a blocked domain', 'domain_blocked', ['ok@partner.test', 'eve@evil.example'], /eve@evil\.example/],
    ['too many recipients', 'too_many_recipients', ['a@x.test', 'b@x.test', 'c@x.test', 'd@x.test'], /4 recipients.*\(3\)/],
  ])('%s: %s, the reason names what to remove', async (_, error, to, names) => {
    const b = await blocked(await h.agent.call('send_email', { mailbox: AUTO, to, subject: subject(), text: 'Hi' }), error);
    expect(b.reason).toMatch(names);
    expect(b.retry_after).toBeUndefined();
    expect(b.duplicate_of).toBeUndefined();
  });

  it('a rate limit gives retry_after: the first send of the window plus the window', async () => {
    const first = await send(h.agent, { mailbox: RATE, to: PEER, subject: subject() });
    expect(first.status).toBe('sent');
    const b = await blocked(await h.agent.call('send_email', { mailbox: RATE, to: PEER, subject: subject(), text: 'again' }), 'rate_limited');
    const created = Date.parse((await message(first.message_id)).created_at);
    expect(b.retry_after).toBe(new Date(created + 60_000).toISOString());
    expect(b.reason).toContain(b.retry_after);
  });

  it('a duplicate gives duplicate_of (global dedupe_window); a mailbox with dedupe_window 0 sends twins', async () => {
    const draft = { mailbox: AUTO, to: PEER, subject: subject(), text: 'Same words' };
    const first = await send(h.agent, draft);
    const b = await blocked(await h.agent.call('send_email', draft), 'duplicate');
    expect(b.duplicate_of).toBe(first.message_id);
    expect(b.reason).toContain(first.message_id);
    const twin = { mailbox: NODUP, to: PEER, subject: subject(), text: 'Same words' };
    expect([(await send(h.agent, twin)).status, (await send(h.agent, twin)).status]).toEqual(['sent', 'sent']);
  });
});

describe('content holds in an autonomous mailbox', () => {
  const question = subject();
  let emailId: string;
  beforeAll(async () => {
    await send(h.agent, { mailbox: PEER, to: AUTO, cc: 'colleague@p.test', subject: question, text: 'Can you send the figures?' });
    emailId = (await inbox(h.agent, AUTO)).find((e) => e.subject === question)!.email_id;
  });

  it('a plain reply goes out at once', async () => {
    const r = ok(await h.agent.call('reply_email', { email_id: emailId, text: 'Here they are.' }));
    expect(r.status).toBe('sent');
    expect((await inbox(h.agent, PEER)).map((e) => e.subject)).toContain(`Re: ${question}`);
  });

  it('a reply_all to the thread goes out at once too', async () => {
    expect(ok(await h.agent.call('reply_email', { email_id: emailId, text: 'All of you.', reply_all: true })).status).toBe('sent');
  });

  it.each([
    ['cc', { cc: 'stranger@else.test' }],
    ['bcc', { bcc: ['stranger@else.test'] }],
  ])('a reply adding a %s outside the thread is held: pending, hold_new_recipient, nothing sent', async (_, extra) => {
    const r = ok(await h.agent.call('reply_email', { email_id: emailId, text: 'Looping in a friend.', ...extra }));
    expect(r.status).toBe('pending');
    expect(r.expires_at).toEqual(expect.any(String));
    expect(r.reason).toMatch(/stranger@else\.test.*not in the thread/);
    const m = await message(r.message_id);
    expect(m.gate).toMatchObject({ code: 'hold_new_recipient', mode_at_submit: 'autonomous' });
    expect(m.policy_hits).toEqual([expect.objectContaining({ rule: 'content_holds.new_recipient', code: 'hold_new_recipient' })]);
    expect((await h.app.store.listCaptured(1000)).filter((c) => c.message_id === r.message_id)).toEqual([]);
  });

  it('a secret in a send is held; list_pending and get_message show the hit to the reviewer', async () => {
    const r = await send(h.agent, { mailbox: AUTO, to: PEER, subject: subject(), text: `The deploy token is ${GITHUB_TOKEN}` });
    expect(r.status).toBe('pending');
    const hit = {
      rule: 'content_holds.secrets',
      code: 'hold_secret',
      effect: 'hold',
      reason: expect.stringMatching(/GitHub token in text/),
      details: { found: [{ where: 'text', kind: 'GitHub token' }] },
    };
    const listed = ok(await h.reviewer.call('list_pending', { mailbox: AUTO })).messages.find((m: any) => m.message_id === r.message_id);
    expect(listed.policy_hits).toEqual([hit]);
    expect(listed.reason).toMatch(/secret/);
    expect((await message(r.message_id)).policy_hits).toEqual([hit]);
    expect(JSON.stringify(listed.policy_hits)).not.toContain(GITHUB_TOKEN);
    // A hold, not a block: a person can still let it go.
    expect(ok(await h.reviewer.call('queue_approve', { message_id: r.message_id })).status).toBe('sent');
  });

  // Regression (fixed): the policy blocks run only at submit. src/services/review.ts checkEdits (lines 57-65) checks only that the
  // edited message still has recipients, a subject and a body, and src/store/message-ops.ts decideInTx binds the
  // edit without re-running the policy, so an approval whose edits put a suppressed address (or a blocked
  // domain, or 200 recipients) on the message is delivered: the suppression list is not "never mailed".
  it('an approval whose edits add a suppressed recipient does not deliver to it', async () => {
    const r = await send(h.agent, { mailbox: AUTO, to: PEER, subject: subject(), text: `The deploy token is ${GITHUB_TOKEN}` });
    await h.reviewer.call('queue_approve', { message_id: r.message_id, edits: { to: ['blocked@outside.test'], text: 'redacted' } });
    const captured = (await h.app.store.listCaptured(1000)).filter((c) => c.message_id === r.message_id).map((c) => c.recipient);
    expect(captured).not.toContain('blocked@outside.test');
  });

  it.each([
    ['a token in a text attachment', { filename: 'deploy.txt', content_base64: b64(`token=${GITHUB_TOKEN}\n`) }],
    ['a key file by name', { filename: 'id_ed25519', content_base64: b64(Buffer.from([0, 1, 2, 3])) }],
  ])('%s is held as a secret', async (_, file) => {
    const r = await send(h.agent, { mailbox: AUTO, to: PEER, subject: subject(), attachments: [file] });
    expect(r.status).toBe('pending');
    expect((await message(r.message_id)).gate.code).toBe('hold_secret');
  });

  // Regression (fixed): src/services/send.ts textOf (lines 152-159) scans an attachment only when its content type is text-like
  // or its name has one of a fixed list of extensions; an extensionless file (content type guessed as
  // application/octet-stream) carrying a PEM private key is not scanned, and autonomous mode sends it.
  it('a private key in an attachment without a text extension is held', async () => {
    const pem = `-----BEGIN ${'OPENSSH'} PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n`;
    const r = await send(h.agent, { mailbox: AUTO, to: PEER, subject: subject(), attachments: [{ filename: 'notes', content_base64: b64(pem) }] });
    expect(r.status).toBe('pending');
  });
});

describe('attachments', () => {
  it('go through the sandbox: the recipient reads their names, types and sizes', async () => {
    const s = subject();
    const r = await send(h.agent, {
      mailbox: AUTO,
      to: PEER,
      subject: s,
      text: 'Two files attached.',
      attachments: [
        { filename: 'report.txt', content_base64: b64('quarterly report\n') },
        { filename: 'chart.png', content_base64: b64(Buffer.alloc(600, 7)), content_type: 'image/png' },
      ],
    });
    expect(r.status).toBe('sent');
    const email = (await inbox(h.agent, PEER)).find((e) => e.subject === s)!;
    expect(ok(await h.agent.call('read_email', { email_id: email.email_id })).attachments).toEqual([
      { filename: 'report.txt', content_type: 'text/plain', size: 17 },
      { filename: 'chart.png', content_type: 'image/png', size: 600 },
    ]);
    expect((await message(r.message_id)).attachments.map((a: any) => [a.filename, a.size])).toEqual([
      ['report.txt', 17],
      ['chart.png', 600],
    ]);
  });

  it.each([
    ['three files (max 2)', [1, 1, 1], /3 attachments.*\(2\)/],
    ['one file a byte over 1000', [1001], /f0\.bin/],
    ['1501 bytes in total', [1000, 501], /total/],
  ])('over the limit: %s is refused with attachment_limit', async (_, sizes, reason) => {
    const attachments = sizes.map((n, i) => ({ filename: `f${i}.bin`, content_base64: b64(Buffer.alloc(n, 1)) }));
    const b = await blocked(await h.agent.call('send_email', { mailbox: AUTO, to: PEER, subject: subject(), text: 'files', attachments }), 'attachment_limit');
    expect(b.reason).toMatch(reason);
  });

  // Regression (fixed): src/store/message-ops.ts submitInTx (line 275) stores the attachment bytes of every submitted message,
  // blocked ones included, so a send refused for attachment_limit still writes its (up to 48 MB) files into
  // message_attachments, where nothing will ever read them: an agent retrying an oversized send fills the disk.
  it('a send refused for attachment_limit keeps none of its bytes', async () => {
    const attachments = [{ filename: 'huge.bin', content_base64: b64(Buffer.alloc(5000, 1)) }];
    const b = await blocked(await h.agent.call('send_email', { mailbox: AUTO, to: PEER, subject: subject(), text: 'f', attachments }), 'attachment_limit');
    expect(await h.app.store.loadAttachments(b.message_id)).toEqual([]);
  });

  it.each([
    ['content that is not base64', { filename: 'a.txt', content_base64: 'this is not base64!' }, /content_base64/],
    ['a file name with a slash', { filename: '../../etc/passwd', content_base64: b64('x') }, /filename/],
    ['a file name with a backslash', { filename: 'C:\\temp\\a.txt', content_base64: b64('x') }, /filename/],
    ['an empty file name', { filename: '  ', content_base64: b64('x') }, /filename/],
    ['an unknown key', { filename: 'a.txt', content_base64: b64('x'), path: '/etc/passwd' }, /path/],
  ])('%s is refused as invalid input, writing nothing', async (_, file, field) => {
    const before = { ...(await snapshot(h.app)), messages: (await h.app.store.listMessages({})).length };
    const r = await h.agent.call('send_email', { mailbox: AUTO, to: PEER, subject: subject(), text: 'x', attachments: [file] });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toBeUndefined();
    expect(textOf(r)).toMatch(field);
    expect({ ...(await snapshot(h.app)), messages: (await h.app.store.listMessages({})).length }).toEqual(before);
  });

  // Regression (fixed): tools/inputs.ts attachmentsField (line 96) checks only the base64 alphabet, not the length, and
  // Buffer.from(..., 'base64') (line 101) silently drops what it cannot decode. 'abcde' (5 characters: no valid
  // base64 has length 1 mod 4) is accepted and sent as 3 bytes, 'a' as an empty file: the bytes sent are not
  // the bytes given, and the agent is told "sent".
  it.each(['abcde', 'a'])('truncated base64 %j is refused as invalid input', async (content_base64) => {
    const r = await h.agent.call('send_email', {
      mailbox: AUTO,
      to: PEER,
      subject: subject(),
      text: 'x',
      attachments: [{ filename: 'a.bin', content_base64 }],
    });
    expect(r.isError).toBe(true);
  });
});
