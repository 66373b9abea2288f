/**
 * What list_folders, get_attachment and get_thread show an agent. Pure: names and subjects cleaned of invisible
 * characters (src/text/invisible.ts), snippets as check_inbox makes them.
 */
import type { AttachmentContent, FolderInfo } from '../mail/ports.js';
import type { InboundEmail } from '../store/store.js';
import type { ThreadEntry } from '../services/threads.js';
import { snippet } from '../text/inbound.js';
import { cleanBody, cleanLine } from '../text/invisible.js';

export type FolderView = FolderInfo;

/** The path stays as the server spells it (the agent passes it back as a folder); the display name is cleaned. */
export const toFolderView = (f: FolderInfo): FolderView => ({ ...f, name: cleanLine(f.name) });

export type ThreadItem = {
  id: string;
  email_id: string | null;
  message_id: string | null;
  folder: string | null;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string[];
  date: string;
  subject: string;
  snippet: string;
  matched_by: ThreadEntry['matched_by'];
};

export function toThreadItem(t: ThreadEntry): ThreadItem {
  const common = { matched_by: t.matched_by, date: new Date(t.at).toISOString() };
  if (t.kind === 'email') {
    const e = t.email;
    return {
      id: e.email_id,
      email_id: e.email_id,
      message_id: t.message_id,
      folder: e.folder,
      direction: t.outbound ? 'outbound' : 'inbound',
      from: cleanLine(e.from_addr),
      to: e.to.map(cleanLine),
      subject: cleanLine(e.subject),
      snippet: snippet(e.text, e.html, 160),
      ...common,
    };
  }
  const m = t.message;
  return {
    id: m.message_id,
    email_id: null,
    message_id: m.message_id,
    folder: null,
    direction: 'outbound',
    from: m.from_addr,
    to: m.to,
    subject: cleanLine(m.subject),
    snippet: snippet(m.text, m.html, 160),
    ...common,
  };
}

export type AttachmentView = {
  email_id: string;
  index: number | null;
  part_id: string | null;
  filename: string;
  content_type: string;
  size: number;
  encoding: 'text' | 'base64';
  uri: string;
  text: string | null;
  untrusted_content: true;
};

/**
 * The attachment as the result's JSON (with the text when it is returned as text, cleaned like a body) and, for
 * bytes, an MCP embedded resource carrying them base64-encoded with their MIME type.
 */
export function toAttachmentView(
  email: InboundEmail,
  index: number | null,
  a: AttachmentContent,
  text: string | null,
): { view: AttachmentView; resource: { type: 'resource'; resource: { uri: string; mimeType: string; blob: string } } | null } {
  const uri = `mailgate://emails/${email.email_id}/attachments/${index !== null ? index : `part-${a.part_id}`}`;
  const view: AttachmentView = {
    email_id: email.email_id,
    index,
    part_id: a.part_id,
    filename: a.filename,
    content_type: a.content_type,
    size: a.content.length,
    encoding: text !== null ? 'text' : 'base64',
    uri,
    text: text !== null ? cleanBody(text).text : null,
    untrusted_content: true,
  };
  return { view, resource: text !== null ? null : { type: 'resource', resource: { uri, mimeType: a.content_type, blob: a.content.toString('base64') } } };
}
