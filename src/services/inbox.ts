/**
 * Reading and tagging inbound mail. Reads always execute (every mode allows them) after the transport has
 * synced the folder; tagging is a write and goes through the gate like a send, so gated_all holds it.
 */
import { MailgateError } from '../errors.js';
import { evaluate } from '../gate/evaluate.js';
import { newMessageId, newMessageIdHeader } from '../ids.js';
import type { InboundEmail, TagAction } from '../store/store.js';
import type { AppContext, Principal } from './context.js';
import { requireRole } from './context.js';
import { getMailboxOrThrow } from './mailboxes.js';
import { outcome, type SendOutcome } from './send.js';

export async function checkInbox(ctx: AppContext, q: { mailbox: string; folder: string; unread_only: boolean; limit: number }): Promise<InboundEmail[]> {
  const mailbox = await getMailboxOrThrow(ctx, q.mailbox);
  await ctx.transports.forMailbox(mailbox).mailbox.sync(q.folder);
  const emails = await ctx.store.listEmails({ ...q, mailbox: mailbox.address });
  if (emails.length === 0 && q.folder !== 'INBOX') {
    const folders = await ctx.store.listFolders(mailbox.address);
    if (!folders.includes(q.folder)) {
      throw new MailgateError('INVALID_INPUT', `folder: '${q.folder}' has no mail in ${mailbox.address}; folders with mail: ${folders.join(', ') || 'INBOX'}`, { field: 'folder' });
    }
  }
  return emails;
}

export async function readEmail(ctx: AppContext, who: Principal, id: string): Promise<InboundEmail> {
  const email = await getEmailOrThrow(ctx, id);
  await ctx.store.recordRead(email, who.id, ctx.clock());
  return email;
}

export async function searchEmail(ctx: AppContext, q: { mailbox: string; query: string; folder?: string | undefined; limit: number }): Promise<InboundEmail[]> {
  const mailbox = await getMailboxOrThrow(ctx, q.mailbox);
  return ctx.store.searchEmails({ ...q, mailbox: mailbox.address });
}

export async function getEmailOrThrow(ctx: AppContext, id: string): Promise<InboundEmail> {
  const email = await ctx.store.getEmail(id);
  if (!email) throw new MailgateError('UNKNOWN_EMAIL', `no inbound email '${id}'; check_inbox or search_email lists email ids`, { field: 'email_id' });
  return email;
}

export async function tagEmail(ctx: AppContext, who: Principal, input: Omit<TagAction, 'move_to'> & { move_to?: string | null | undefined }): Promise<SendOutcome> {
  requireRole(who, ['agent'], 'tagging mail');
  const email = await getEmailOrThrow(ctx, input.email_id);
  const action: TagAction = { email_id: email.email_id, add_flags: input.add_flags, remove_flags: input.remove_flags, move_to: input.move_to ?? null };
  const operation = action.move_to ? 'move' : 'tag';
  const describeTag = [
    action.add_flags.length ? `add ${action.add_flags.join(', ')}` : '',
    action.remove_flags.length ? `remove ${action.remove_flags.join(', ')}` : '',
    action.move_to ? `move to ${action.move_to}` : '',
  ].filter(Boolean).join('; ');
  const result = await ctx.store.submitMessage({
    message_id: newMessageId(),
    message_id_header: newMessageIdHeader(email.mailbox),
    mailbox: email.mailbox,
    kind: 'tag',
    content: { to: [], cc: [], bcc: [], subject: email.subject, text: `${describeTag} (email from ${email.from_addr})`, html: null },
    tag_action: action,
    actor: who.id,
  }, (mailbox) => evaluate({ mode: mailbox.oversight_mode, rules: mailbox.auto_approve_rules },
    { requireApproval: false }, { kind: 'write', operation }, { knownContacts: new Set(), contactLists: new Map() }), ctx.clock());
  return outcome(ctx, result);
}
