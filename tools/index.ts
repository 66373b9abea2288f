/** Every MCP tool, in the order tools/list shows them. Adding a tool means adding a file and a line here. */
import type { ToolDef } from '../src/mcp/define-tool.js';
import cancel_message from './cancel_message.js';
import check_inbox from './check_inbox.js';
import create_mailbox from './create_mailbox.js';
import decide_email from './decide_email.js';
import delete_email from './delete_email.js';
import forward_email from './forward_email.js';
import get_attachment from './get_attachment.js';
import get_audit from './get_audit.js';
import get_message from './get_message.js';
import get_thread from './get_thread.js';
import list_folders from './list_folders.js';
import list_mailboxes from './list_mailboxes.js';
import list_pending from './list_pending.js';
import manage_contacts from './manage_contacts.js';
import mail_wait from './mail_wait.js';
import queue_approve from './queue_approve.js';
import queue_reject from './queue_reject.js';
import read_email from './read_email.js';
import reply_email from './reply_email.js';
import search_email from './search_email.js';
import send_email from './send_email.js';
import tag_email from './tag_email.js';
import update_mailbox from './update_mailbox.js';

export const TOOLS: readonly ToolDef[] = [
  send_email,
  reply_email,
  forward_email,
  check_inbox,
  read_email,
  search_email,
  tag_email,
  delete_email,
  cancel_message,
  get_message,
  mail_wait,
  list_pending,
  decide_email,
  queue_approve,
  queue_reject,
  get_audit,
  list_mailboxes,
  create_mailbox,
  update_mailbox,
  list_folders,
  get_attachment,
  get_thread,
  manage_contacts,
] as unknown as readonly ToolDef[];
