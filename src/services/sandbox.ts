/**
 * The sandbox transport, the embedded default: mail between sandbox mailboxes is delivered into the
 * recipient's INBOX in SQLite (and a copy into the sender's Sent); mail to any other address is captured in
 * the database and never leaves the machine. No sockets are opened. It lives with the services, not the mail
 * adapters, because its "server" is the store: sending is a store write (exactly once per copy, however often
 * it is retried), and its mailboxes have no MailboxPort since reading them is a store read.
 */
import type { Sender, Transport } from '../mail/ports.js';
import type { OutboundMessage, Store } from '../store/store.js';
import { cleanAttachmentName, cleanBody, cleanLine } from '../text/invisible.js';

export function sandboxTransport(store: Store, clock: () => number): Transport {
  const sender: Sender = {
    idempotent: true,
    async send(message, hooks) {
      const recipients = [...new Set([...message.to, ...message.cc, ...message.bcc])];
      const local: string[] = [];
      const external: string[] = [];
      for (const r of recipients) {
        const mb = await store.getMailbox(r);
        (mb?.transport === 'sandbox' ? local : external).push(r);
      }
      await hooks.beforeFinalDot();
      await store.deliverSandbox(asInbound(message), local, external, clock());
      return { accepted: recipients, captured: external, detail: { transport: 'sandbox', delivered_locally: local, captured: external } };
    },
  };
  return { sender };
}

/**
 * The delivered copies as inbound mail: subject, text and attachment names cleaned of invisible and bidi
 * characters like IMAP mail (src/mail/imap/sync.ts), so a reply's "Re:" subject cannot carry them either.
 */
function asInbound(m: OutboundMessage): OutboundMessage {
  return {
    ...m,
    subject: cleanLine(m.subject),
    text: m.text === null ? null : cleanBody(m.text).text,
    attachments: m.attachments.map((a) => ({ ...a, filename: cleanAttachmentName(a.filename) })),
  };
}
