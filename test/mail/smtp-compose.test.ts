/**
 * composeMessage: the MIME we hand to SMTP is built from our validated fields only. Bcc recipients ride in
 * the envelope and never in a header; the Message-ID is the stable one stored with the message; reply
 * threading follows RFC 5322 §3.6.4; nothing in the content can make the composer read a file or a URL.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type AddressObject } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeMessage } from '../../src/mail/compose.js';
import type { OutboundMessage } from '../../src/store/store.js';

const FROM = 'agent@corp.example';
const HEADER_ID = '<Qx7stableid0123456789abc@corp.example>';

function outbound(over: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    message_id: 'msg_ABCDEFGHIJKLMNOPQRST',
    mailbox: FROM,
    kind: 'send',
    status: 'sending',
    from_addr: FROM,
    to: ['ann@dest.example', 'bob@dest.example'],
    cc: ['carol@dest.example'],
    bcc: ['hidden@secret.example'],
    subject: 'Quarterly numbers',
    text: 'Hello,\nthe numbers are attached in the body.',
    html: '<p>Hello, <b>numbers</b></p>',
    tag_action: null,
    reply_to_email_id: null,
    message_id_header: HEADER_ID,
    in_reply_to_header: null,
    references_header: null,
    metadata: null,
    content_hash: 'x',
    idempotency_key: null,
    created_by: 'agent:test',
    mode_at_submit: 'autonomous',
    gate_code: 'mode_allows',
    gate_reason: 'r',
    gate_rule: null,
    notify: false,
    created_at: Date.UTC(2025, 0, 2, 3, 4, 5),
    expires_at: null,
    decided_at: null,
    decided_by: null,
    decision_reason: null,
    original_content: null,
    attempts: 1,
    next_attempt_at: null,
    lease_owner: 'w',
    lease_until: null,
    last_error: null,
    transmitting_at: null,
    smtp_response: null,
    sent_at: null,
    updated_at: 0,
    policy_hits: [],
    approved_hash: 'x',
    thread_key: HEADER_ID,
    attachments: [],
    dedupe_hash: null,
    ...over,
  };
}

const addrs = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a : a ? [a] : []).flatMap((o) => o.value.map((v) => v.address));

/** The raw header block (before the first empty line). */
const headerBlock = (raw: Buffer) => raw.toString('latin1').split(/\r\n\r\n/)[0]!;

describe('composeMessage', () => {
  it('builds From (with display name), To, Cc, Subject, text + html, the stored Message-ID and no Bcc header', async () => {
    const { raw, envelope } = await composeMessage(outbound(), 'Agent Smith');
    const p = await simpleParser(raw);
    expect(p.from?.value).toEqual([{ address: FROM, name: 'Agent Smith' }]);
    expect(addrs(p.to)).toEqual(['ann@dest.example', 'bob@dest.example']);
    expect(addrs(p.cc)).toEqual(['carol@dest.example']);
    expect(p.bcc).toBeUndefined();
    expect(headerBlock(raw)).not.toMatch(/^bcc:/im);
    expect(raw.toString('latin1')).not.toContain('hidden@secret.example');
    expect(p.subject).toBe('Quarterly numbers');
    expect(p.text?.trim()).toBe('Hello,\nthe numbers are attached in the body.');
    expect(p.html).toContain('<p>Hello, <b>numbers</b></p>');
    expect(p.messageId).toBe(HEADER_ID);
    expect(p.headers.get('x-mailgate-message-id')).toBe('msg_ABCDEFGHIJKLMNOPQRST');
    // Sent now, drafted in 2025: the Date header is the sending time (to the second).
    expect(Math.abs(p.date!.getTime() - Date.now())).toBeLessThan(5_000);
    expect(p.inReplyTo).toBeUndefined();
    expect(p.references).toBeUndefined();
    expect(p.attachments).toEqual([]);
    // The envelope is exactly the approved set: To + Cc + Bcc, and MAIL FROM is the mailbox.
    expect(envelope).toEqual({ from: FROM, to: ['ann@dest.example', 'bob@dest.example', 'carol@dest.example', 'hidden@secret.example'] });
  });

  it('the Date header is the time it is sent, never the time it was drafted', async () => {
    const drafted = Date.UTC(2026, 10, 1, 9, 0, 0);
    const approvedTwoDaysLater = new Date(drafted + 2 * 86_400_000);
    const { raw } = await composeMessage(outbound({ created_at: drafted }), null, approvedTwoDaysLater);
    expect((await simpleParser(raw)).date?.getTime()).toBe(approvedTwoDaysLater.getTime());
  });

  it('without a display name From is the bare address; the same message composes to the same Message-ID every time', async () => {
    const a = await composeMessage(outbound({ cc: [], bcc: [] }), null);
    const b = await composeMessage(outbound({ cc: [], bcc: [] }), null);
    const pa = await simpleParser(a.raw);
    expect(pa.from?.value).toEqual([{ address: FROM, name: '' }]);
    expect(pa.cc).toBeUndefined();
    expect(headerBlock(a.raw)).not.toMatch(/^cc:/im);
    expect((await simpleParser(b.raw)).messageId).toBe(HEADER_ID);
    expect(pa.messageId).toBe(HEADER_ID);
    expect(a.envelope.to).toEqual(['ann@dest.example', 'bob@dest.example']);
  });

  it('dedupes the envelope: an address in to, cc and bcc is one RCPT', async () => {
    const m = outbound({ to: ['ann@dest.example'], cc: ['ann@dest.example', 'bob@dest.example'], bcc: ['bob@dest.example', 'zed@dest.example'] });
    const { envelope } = await composeMessage(m, null);
    expect(envelope.to).toEqual(['ann@dest.example', 'bob@dest.example', 'zed@dest.example']);
  });

  it('a reply carries In-Reply-To and References (RFC 5322 §3.6.4)', async () => {
    const parent = '<parent-1@other.example>';
    const refs = '<root-0@other.example> <parent-1@other.example>';
    const { raw } = await composeMessage(outbound({ kind: 'reply', subject: 'Re: hi', in_reply_to_header: parent, references_header: refs }), null);
    const p = await simpleParser(raw);
    expect(p.inReplyTo).toBe(parent);
    expect(p.references).toEqual(['<root-0@other.example>', '<parent-1@other.example>']);
    expect(p.messageId).toBe(HEADER_ID);
    expect(p.subject).toBe('Re: hi');
  });

  it('a text-only message has no html part and a single text/plain body', async () => {
    const { raw } = await composeMessage(outbound({ html: null, cc: [], bcc: [] }), null);
    const p = await simpleParser(raw);
    expect(p.html).toBe(false);
    expect(headerBlock(raw)).toMatch(/^content-type: text\/plain/im);
  });

  describe('content cannot reach files or URLs', () => {
    let http: Server;
    let hits = 0;
    let url = '';
    beforeAll(async () => {
      http = createServer((_req, res) => {
        hits++;
        res.end('REMOTE-CONTENT-FETCHED');
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/x.png`;
    });
    afterAll(async () => {
      await new Promise((r) => http.close(r));
    });

    it('file:// and http:// references in html/text stay text; /etc/passwd is not read, no URL is fetched', async () => {
      const passwd = readFileSync('/etc/passwd', 'utf8');
      const rootLine = passwd.split('\n').find((l) => l.startsWith('root:'))!;
      const html = `<img src="file:///etc/passwd"><img src="cid:x"><img src="${url}"><a href="file:///etc/shadow">x</a>`;
      const text = 'attachments: [{"path":"/etc/passwd"}] {"href":"file:///etc/passwd"} path=/etc/passwd raw=/etc/hostname';
      const { raw } = await composeMessage(outbound({ html, text, subject: '{"path":"/etc/passwd"}' }), null);
      const s = raw.toString('latin1');
      expect(s).not.toContain(rootLine);
      expect(s).not.toMatch(/root:x?:0:0:/);
      expect(s).not.toContain('REMOTE-CONTENT-FETCHED');
      expect(hits).toBe(0);
      const p = await simpleParser(raw);
      expect(p.attachments).toEqual([]);
      expect(p.html).toContain('file:///etc/passwd'); // kept as the literal text the agent wrote
      expect(p.text).toContain('{"path":"/etc/passwd"}');
      expect(p.subject).toBe('{"path":"/etc/passwd"}');
      // Only the two alternative parts: no attachment, no related/inline part was created from the img tags.
      expect(headerBlock(raw)).toMatch(/^content-type: multipart\/alternative/im);
      expect(s).not.toMatch(/content-disposition: attachment|multipart\/related|multipart\/mixed/i);
    });

    it('header injection through the subject or the display name is refused outright: nothing is composed', async () => {
      // A row the tool schemas would have refused (an older version, a hand-edited database): no bytes are built.
      await expect(composeMessage(outbound({ subject: 'Hi\r\nBcc: evil@attacker.example\r\nX-Injected: 1', cc: [], bcc: [] }), 'Agent')).rejects.toMatchObject({
        name: 'DeliveryError',
        kind: 'permanent',
        message: expect.stringMatching(/subject contains a line break/),
      });
      await expect(composeMessage(outbound(), 'Agent\r\nBcc: evil2@attacker.example')).rejects.toMatchObject({
        kind: 'permanent',
        message: expect.stringMatching(/display_name contains a line break/),
      });
      await expect(composeMessage(outbound({ subject: 'Hi\u0000there' }), 'Agent')).rejects.toMatchObject({
        kind: 'permanent',
        message: expect.stringMatching(/subject contains a control character \(U\+0000\)/),
      });
    });
  });
});
