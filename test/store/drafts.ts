/**
 * The approval-binding tests' drafts, shared by the conformance file and the SQLite-only tamper file: ALICE's
 * sends with an attachment (held; CAROL's go straight out), approved by a reviewer, delivered by a sandbox worker
 * whose clock moves one tick per reading, so every delivery is dated after the one before.
 */
import { newMessageIdHeader } from '../../src/ids.js';
import type { MessageContent, NewAttachment, Store } from '../../src/store/store.js';
import { ALICE, BOB, CAROL, T0, addMailbox, content, gateFor, sandboxWorker } from './fixtures.js';

const REVIEWER = 'reviewer:test';
export const ATTACHMENT: NewAttachment = { filename: 'terms.txt', content_type: 'text/plain', content: Buffer.from('Net 30 days.\n') };

/** ALICE's drafts are held; BOB and CAROL are sandbox recipients (an INBOX copy proves delivery). */
export async function bindingMailboxes(s: Store): Promise<void> {
  await addMailbox(s, ALICE, 'gated_send', { policy: { dedupe_window: 0 } });
  for (const rcpt of [BOB, CAROL]) await addMailbox(s, rcpt, 'autonomous');
}

let serial = 0;

/** Draft, approve and deliver on the store `store()` returns now (a fresh one per test). */
export function drafts(store: () => Store) {
  let clock = T0;
  return {
    resetClock() {
      clock = T0;
    },
    /** Submits from ALICE with an attachment; `id` and `thread` let a test fix the message id and the thread. */
    async draft(c: Partial<MessageContent> = {}, o: { id?: string; thread?: string; mailbox?: string } = {}): Promise<string> {
      const full = content({ to: [BOB], subject: `draft ${++serial}`, html: '<p>Hello there</p>', ...c });
      const mailbox = o.mailbox ?? ALICE;
      const r = await store().submitMessage(
        {
          message_id: o.id ?? `msg_binding${String(serial).padStart(9, '0')}`,
          message_id_header: newMessageIdHeader(mailbox),
          mailbox,
          kind: 'send',
          content: full,
          actor: 'agent:test',
          attachments: [ATTACHMENT],
          thread_key: o.thread ?? null,
        },
        gateFor(full, false, mailbox),
        T0,
      );
      return r.message.message_id;
    },
    approve: (id: string, edits?: Partial<MessageContent>) => store().decideMessage(id, { action: 'approve', actor: REVIEWER, edits: edits ?? null }, T0 + 1),
    deliver: () => sandboxWorker(store(), () => ++clock).tick(),
    /** Bob's INBOX in the order it arrived. */
    async bobInbox() {
      const inbox = await store().listEmails({ mailbox: BOB, folder: 'INBOX', unread_only: false, limit: 100 });
      return inbox.sort((x, y) => x.date - y.date).map((e) => ({ subject: e.subject, text: e.text }));
    },
  };
}
