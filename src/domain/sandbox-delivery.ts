/**
 * What the sandbox transport's local delivery writes: a copy in the INBOX of each local recipient, one in the
 * sender's Sent folder (already read), and a captured_mail row per external recipient, which nothing sends.
 * Each copy is written at most once however often this runs (insertEmail ignores a repeat).
 */
import * as inbox from '../store/inbox.js';
import type { OutboundMessage } from '../store/messages.js';
import type { SqlTx } from '../store/sql/types.js';
import { signal } from './signals.js';

export async function deliverSandboxInTx(q: SqlTx, m: OutboundMessage, local: readonly string[], external: readonly string[], now: number): Promise<void> {
  const common = {
    source: 'sandbox' as const,
    from_addr: m.from_addr,
    from_name: null,
    to: m.to,
    cc: m.cc,
    subject: m.subject,
    text: m.text,
    html: m.html,
    message_id_header: m.message_id_header,
    in_reply_to_header: m.in_reply_to_header,
    references_header: m.references_header,
    outbound_message_id: m.message_id,
    date: now,
    attachments: m.attachments.map((a) => ({ filename: a.filename, content_type: a.content_type, size: a.size })),
  };
  for (const rcpt of local) {
    if (await inbox.insertEmail(q, { ...common, mailbox: rcpt, folder: 'INBOX', delivery_role: 'inbox' }, now)) signal(q, 'inbox', rcpt);
  }
  if (await inbox.insertEmail(q, { ...common, mailbox: m.mailbox, folder: 'Sent', delivery_role: 'sent', flags: ['\\Seen'] }, now))
    signal(q, 'inbox', m.mailbox);
  await inbox.insertCaptured(q, m.message_id, external, now);
}
