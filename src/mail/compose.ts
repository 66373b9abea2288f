/**
 * Composing the MIME message from our own validated fields only. No agent-supplied nodemailer options reach
 * here (no `path`, `href` or `raw` attachments), and file and URL access are disabled in the composer, so a
 * message can never read a local file or fetch a URL. Bcc never appears in the headers: the SMTP envelope
 * carries those recipients.
 */
import type MailComposerType from 'nodemailer/lib/mail-composer';
import type { OutboundMessage } from '../store/store.js';
import { headerTextProblem, isEmailAddress } from '../values.js';
import { DeliveryError } from './ports.js';

export interface Composed {
  raw: Buffer;
  /** MAIL FROM and RCPT TO: exactly the recipients that were approved. */
  envelope: { from: string; to: string[] };
}

/**
 * `sentAt` is the Date header: when the message leaves, not when it was drafted (RFC 5322 §3.6.1 calls it the
 * moment the message is ready for delivery), so mail approved two days after drafting does not arrive looking
 * two days old and sorted below newer mail. Each attempt composes afresh, so a retry carries its own time.
 */
export async function composeMessage(m: OutboundMessage, displayName: string | null, sentAt: Date = new Date()): Promise<Composed> {
  const problem = headerProblem(m, displayName);
  // Permanent: the row itself is wrong, so a retry would fail the same way; nothing has been sent.
  if (problem) throw new DeliveryError(`not sent: ${problem}`, 'permanent');
  const MailComposer = await loadComposer();
  const composer = new MailComposer({
    from: displayName ? { name: displayName, address: m.from_addr } : m.from_addr,
    to: m.to,
    cc: m.cc.length ? m.cc : undefined,
    subject: m.subject,
    text: m.text ?? undefined,
    html: m.html ?? undefined,
    // Stable across attempts (generated when the message was created), so a receiver can dedupe.
    messageId: m.message_id_header,
    inReplyTo: m.in_reply_to_header ?? undefined,
    references: m.references_header ?? undefined,
    date: sentAt,
    headers: { 'X-Mailgate-Message-Id': m.message_id },
    // Bytes from our own table (loaded by the worker), never a path or URL.
    attachments: (m.files ?? []).map((f) => ({ filename: f.filename, contentType: f.content_type, content: f.content })),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return new Promise<Composed>((resolve, reject) => {
    composer.compile().build((err, raw) => {
      if (err) reject(err);
      else resolve({ raw, envelope: { from: m.from_addr, to: [...new Set([...m.to, ...m.cc, ...m.bcc])] } });
    });
  });
}

/**
 * The last check before bytes are built, for rows that reached the table around the tools' schemas (an edit
 * from another client, an older version, a hand-made row): every header field is one line of printable text
 * and every envelope address is a plain address, so nothing can smuggle a header or an SMTP parameter.
 */
function headerProblem(m: OutboundMessage, displayName: string | null): string | null {
  const fields: [string, string | null][] = [
    ['subject', m.subject],
    ['display_name', displayName],
    ['in_reply_to', m.in_reply_to_header],
    ['references', m.references_header],
  ];
  for (const [field, value] of fields) {
    const problem = value === null ? null : headerTextProblem(field, value);
    if (problem) return problem;
  }
  for (const [field, list] of [
    ['from', [m.from_addr]],
    ['to', m.to],
    ['cc', m.cc],
    ['bcc', m.bcc],
  ] as const) {
    const bad = list.find((a) => !isEmailAddress(a));
    if (bad !== undefined) return `${field} holds ${JSON.stringify(bad)}, which is not a plain email address`;
  }
  return null;
}

/** nodemailer's composer loads with the first message composed, not at the server's start-up (tools/list needs none of it). */
let composerModule: Promise<typeof MailComposerType> | undefined;
function loadComposer(): Promise<typeof MailComposerType> {
  composerModule ??= import('nodemailer/lib/mail-composer').then((m) => m.default);
  return composerModule;
}
