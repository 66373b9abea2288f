/**
 * get_attachment on a real mailbox through a spawned `mailgate serve`: a message with a PDF and a text file
 * delivered to the private Dovecot, each fetched alone by index or IMAP body part (bytes equal to what was sent),
 * a message whose structure differs from what BODYSTRUCTURE suggests, and the size cap before any download.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireMailServersOrSkip, startMailServers, type MailServers, type MailUser } from '../helpers/mail-servers.js';
import { tempDir } from '../helpers/tmp.js';
import { assertBuilt, ok, type ServerHandle, textOf } from './harness.js';
import { closeAllReal, eventually, startRealServer, writeRealConfig } from './real-harness.js';

type Block = { type: string; resource?: { uri: string; mimeType: string; blob?: string } };
interface Attachment {
  index: number | null;
  part_id: string | null;
  filename: string;
  content_type: string;
  size: number;
  encoding: string;
  uri: string;
  text: string | null;
}

const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 131) % 256)), Buffer.from('\n%%EOF\n')]);
const NOTES = 'Meeting notes\r\nÄnderungen: keine.\r\n';
const BIG = Buffer.alloc(6 * 1024 * 1024, 7);
const b64 = (b: Buffer) => b.toString('base64').match(/.{1,76}/g)!;

function message(subject: string, parts: string[][]): string {
  const head = [
    `From: frank@example.org`,
    'To: bob@mailgate.test',
    `Subject: ${subject}`,
    `Message-ID: <${subject.replace(/\W/g, '')}@example.org>`,
    'MIME-Version: 1.0',
  ];
  const body = ['Content-Type: multipart/mixed; boundary="b1"', '', ...parts.flatMap((p) => ['--b1', ...p]), '--b1--', ''];
  return [...head, ...body].join('\r\n');
}
const textPart = ['Content-Type: text/plain; charset=utf-8', '', 'See the attachments.'];
const pdfPart = [
  'Content-Type: application/pdf; name="report.pdf"',
  'Content-Disposition: attachment; filename="report.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  ...b64(PDF),
];
const notesPart = [
  'Content-Type: text/plain; charset=utf-8; name="notes.txt"',
  'Content-Disposition: attachment; filename="notes.txt"',
  'Content-Transfer-Encoding: base64',
  '',
  ...b64(Buffer.from(NOTES)),
];

describe.skipIf(!requireMailServersOrSkip())('get_attachment on real mail', () => {
  const tmp = tempDir('mailgate-real-attach-');
  let mail: MailServers;
  let user: MailUser;
  let agent: ServerHandle;
  let ids: Map<string, string>;

  beforeAll(async () => {
    assertBuilt();
    mail = await startMailServers({ users: ['reader'] });
    user = mail.users[0]!;
    await mail.deliver(message('Report', [textPart, pdfPart, notesPart]), user.address);
    // The PDF nested in a multipart/alternative-free related part: BODYSTRUCTURE numbering is 2.1, not 2.
    await mail.deliver(message('Nested', [textPart, ['Content-Type: multipart/related; boundary="b2"', '', '--b2', ...pdfPart, '--b2--']]), user.address);
    // A name in RFC 2231 continuations and an RFC 2047 word: however BODYSTRUCTURE shows them, the index means
    // the attachment read_email listed.
    await mail.deliver(
      message('Encoded', [
        textPart,
        [
          'Content-Type: text/plain; charset=utf-8; name="=?utf-8?B?w5xiZXJzaWNodC50eHQ=?="',
          "Content-Disposition: attachment; filename*0*=utf-8''%C3%9Cber; filename*1=sicht.txt",
          '',
          'First',
        ],
        [
          'Content-Type: application/pdf',
          'Content-Disposition: attachment; filename="=?utf-8?Q?Rechnung_=E2=80=AE.pdf?="',
          'Content-Transfer-Encoding: base64',
          '',
          ...b64(PDF),
        ],
      ]),
      user.address,
    );
    // The whole message is the attachment (no multipart): body part 1.
    await mail.deliver(
      [
        'From: frank@example.org',
        'To: bob@mailgate.test',
        'Subject: Bare',
        'Message-ID: <bare@example.org>',
        'MIME-Version: 1.0',
        'Content-Type: application/pdf; name="bare.pdf"',
        'Content-Disposition: attachment; filename="bare.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        ...b64(PDF),
      ].join('\r\n'),
      user.address,
    );
    await mail.deliver(
      message('Big', [textPart, ['Content-Type: application/octet-stream; name="big.bin"', 'Content-Transfer-Encoding: base64', '', ...b64(BIG)]]),
      user.address,
    );
    const config = writeRealConfig(tmp.file('mailgate.json'), mail, [{ user, mode: 'gated_send' }]);
    agent = await startRealServer({ role: 'agent', db: tmp.file('attach.db'), home: tmp.path, config });
    ids = await eventually(
      async () => {
        const r = ok<{ emails: { subject: string; email_id: string }[] }>(await agent.call('check_inbox', { mailbox: user.address }));
        return r.emails.length === 5 ? new Map(r.emails.map((e) => [e.subject, e.email_id])) : undefined;
      },
      10_000,
      'the five messages in INBOX',
    );
  }, 60_000);

  afterAll(async () => {
    await closeAllReal();
    await mail?.stop();
    tmp.cleanup();
  });

  const get = (args: Record<string, unknown>) => agent.call('get_attachment', args);
  const blob = (content: unknown) => Buffer.from((content as Block[]).find((b) => b.type === 'resource')!.resource!.blob!, 'base64');

  it('returns the PDF and the text file as read_email lists them, each from its own body part', async () => {
    const email_id = ids.get('Report')!;
    const read = ok<{ attachments: { filename: string }[] }>(await agent.call('read_email', { email_id }));
    expect(read.attachments.map((a) => a.filename)).toEqual(['report.pdf', 'notes.txt']);

    const pdf = await get({ email_id, index: 0 });
    expect(ok<Attachment>(pdf)).toMatchObject({
      index: 0,
      part_id: '2',
      filename: 'report.pdf',
      content_type: 'application/pdf',
      size: PDF.length,
      encoding: 'base64',
    });
    expect(blob(pdf.content).equals(PDF)).toBe(true);
    expect((pdf.content as Block[])[1]!.resource).toMatchObject({ mimeType: 'application/pdf', uri: ok<Attachment>(pdf).uri });

    const notes = ok<Attachment>(await get({ email_id, index: 1 }));
    expect(notes).toMatchObject({ part_id: '3', filename: 'notes.txt', encoding: 'text', text: NOTES, size: Buffer.byteLength(NOTES) });
    const byPart = await get({ email_id, part_id: '3', as: 'base64' });
    expect(blob(byPart.content).equals(Buffer.from(NOTES))).toBe(true);
  });

  it('finds a nested part by index, and refuses a part id the message does not have', async () => {
    const nested = await get({ email_id: ids.get('Nested')!, index: 0 });
    expect(ok<Attachment>(nested)).toMatchObject({ part_id: '2.1', filename: 'report.pdf' });
    expect(blob(nested.content).equals(PDF)).toBe(true);
    const bare = await get({ email_id: ids.get('Bare')!, index: 0 });
    expect(ok<Attachment>(bare)).toMatchObject({ part_id: '1', filename: 'bare.pdf', size: PDF.length });
    expect(blob(bare.content).equals(PDF)).toBe(true);
    const wrongPart = await get({ email_id: ids.get('Nested')!, part_id: '9' });
    expect(textOf(wrongPart)).toMatch(/INVALID_INPUT: part_id: .* no body part '9'; its attachments are parts 2\.1/);
  });

  it('means by an index the attachment read_email listed, encoded names and all', async () => {
    const email_id = ids.get('Encoded')!;
    const listed = ok<{ attachments: { filename: string }[] }>(await agent.call('read_email', { email_id })).attachments.map((a) => a.filename);
    expect(listed).toEqual(['Übersicht.txt', 'Rechnung .pdf']);
    const first = ok<Attachment>(await get({ email_id, index: 0 }));
    expect(first).toMatchObject({ filename: listed[0], text: 'First' });
    const second = await get({ email_id, index: 1 });
    expect(ok<Attachment>(second).filename).toBe(listed[1]);
    expect(blob(second.content).equals(PDF)).toBe(true);
    process.stderr.write(`[attachments-real] encoded names fetched as parts ${first.part_id}, ${ok<Attachment>(second).part_id}\n`);
  });

  it('refuses past the cap with the size and the cap, by default and with a lower max_bytes', async () => {
    const big = await get({ email_id: ids.get('Big')!, index: 0 });
    expect(big.isError).toBe(true);
    const m =
      /INVALID_INPUT: max_bytes: attachment 0 of em_\S+ \('big\.bin', application\/octet-stream\) is (?:about )?(\d+) bytes \(6\.0 MiB\), over the cap of 5242880 bytes; pass a larger max_bytes/.exec(
        textOf(big),
      );
    expect(m, textOf(big)).not.toBeNull();
    expect(Math.abs(Number(m![1]) - BIG.length) / BIG.length).toBeLessThan(0.02);
    const small = await get({ email_id: ids.get('Report')!, index: 0, max_bytes: 4096 });
    expect(textOf(small)).toMatch(/'report\.pdf', application\/pdf\) is (about )?\d+ bytes .*over the cap of 4096 bytes/);
    // Under the cap it goes through: the cap is on the attachment, not the message.
    expect(ok<Attachment>(await get({ email_id: ids.get('Report')!, index: 1, max_bytes: 4096 })).text).toBe(NOTES);
  });
});
