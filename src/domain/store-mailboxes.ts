/**
 * The Store, mailboxes: creating and changing them (a tightening takes back unsent mail: src/domain/mailbox-rules.ts),
 * contact lists and correspondents.
 */
import * as mailboxes from '../store/mailboxes.js';
import type { MailboxPatch, MailboxUpdateOptions, NewMailbox } from '../store/store.js';
import { createMailboxInTx, updateMailboxInTx } from './mailbox-rules.js';
import { mailboxLock, StoreBase } from './store-base.js';

export abstract class StoreMailboxes extends StoreBase {
  listMailboxes() {
    return this.read((q) => mailboxes.listMailboxRows(q));
  }
  getMailbox(address: string) {
    return this.read((q) => mailboxes.getMailboxRow(q, address));
  }

  // Both take the mailbox's submit lock: on PostgreSQL a submit reading the old mode could otherwise commit
  // mail that the mode change, not seeing it yet, never takes back.
  createMailbox(m: NewMailbox, actor: string, now: number, opts: Pick<MailboxUpdateOptions, 'detail'> = {}) {
    return this.tx((q) => createMailboxInTx(q, m, actor, now, opts), { locks: [mailboxLock(m.address)] });
  }

  updateMailbox(address: string, patch: MailboxPatch, actor: string, reason: string, now: number, opts: MailboxUpdateOptions = {}) {
    return this.tx((q) => updateMailboxInTx(q, address, patch, actor, reason, now, opts), { locks: [mailboxLock(address)] });
  }

  lastMailboxChange(address: string) {
    return this.read((q) => mailboxes.lastMailboxChange(q, address));
  }

  knownCorrespondents(mailbox: string, addresses: readonly string[]) {
    return this.read((q) => mailboxes.knownCorrespondents(q, mailbox, addresses));
  }

  setContactLists(lists: Record<string, readonly string[]>) {
    return this.tx((q) => mailboxes.replaceContactLists(q, lists));
  }
}
