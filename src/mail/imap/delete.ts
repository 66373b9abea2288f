/**
 * delete_email on the server, for ImapMailbox.applyTag: to the special-use \Trash folder (RFC 6154) by UID MOVE,
 * or for good by STORE \Deleted and UID EXPUNGE (RFC 4315 UIDPLUS). Runs inside the caller's folder lock.
 */
import type { ImapFlow, ListResponse } from 'imapflow';
import type { TagResult } from '../ports.js';
import type { ImapConnection } from './connection.js';

type Refusal = NonNullable<Awaited<ReturnType<ImapConnection['refusalOf']>>>;

/**
 * Moves or expunges one message of the selected folder. `refuse` records a server refusal (or throws for a
 * transient one), as the flag steps of applyTag do.
 */
export async function deleteOnServer(
  conn: ImapConnection,
  c: ImapFlow,
  email: { folder: string; uid: number },
  mode: 'trash' | 'permanent',
  result: TagResult,
  refuse: (what: string, answer: Refusal) => void,
): Promise<void> {
  const uid = String(email.uid);
  if (mode === 'permanent') {
    // Without UIDPLUS only a plain EXPUNGE exists, which also removes every other message someone marked \Deleted.
    if (!c.capabilities.has('UIDPLUS')) {
      result.refused = { code: 'MAIL_REFUSED', reason: 'permanent delete: the IMAP server lacks UIDPLUS (RFC 4315), so it cannot expunge one message alone' };
      return;
    }
    const answer = await conn.refusalOf(() => c.messageDelete(uid, { uid: true }));
    if (answer) return refuse('deleting the email permanently', answer);
    result.deleted = true;
    return;
  }
  const trash = trashFolder(await c.list());
  if (!trash) {
    result.refused = {
      code: 'MAIL_REFUSED',
      reason: 'the server has no Trash folder (no \\Trash special use, none named Trash); move the email with tag_email instead',
    };
    return;
  }
  // Already in the Trash: nothing to move (a permanent delete is what removes it from there).
  if (trash === email.folder) return;
  const answer = await conn.refusalOf(() => c.messageMove(uid, trash, { uid: true }));
  if (answer) return refuse(`moving the email to '${trash}'`, answer);
  result.moved_to = trash;
}

/** The \Trash folder by special use, else by the names clients use without RFC 6154. */
function trashFolder(folders: readonly ListResponse[]): string | undefined {
  return folders.find((f) => f.specialUse === '\\Trash')?.path ?? folders.find((f) => /^(trash|deleted( items| messages)?)$/i.test(f.name))?.path;
}
