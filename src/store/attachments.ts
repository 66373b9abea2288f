/** A message's attachment bytes, kept apart from its row: the row lists them (AttachmentMeta), the worker loads them to send. */
import type { AttachmentFile, AttachmentMeta } from './messages.js';
import type { SqlTx } from './sql/types.js';

export async function insertAttachments(q: SqlTx, id: string, files: readonly { content: Buffer }[], meta: readonly AttachmentMeta[]): Promise<void> {
  for (const [i, f] of files.entries()) {
    await q.run('INSERT INTO message_attachments (message_id, idx, filename, content_type, size, sha256, content) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      id,
      i,
      meta[i]!.filename,
      meta[i]!.content_type,
      meta[i]!.size,
      meta[i]!.sha256,
      f.content,
    ]);
  }
}

/** The attachment bytes of a message, in order, as the delivery worker sends them. */
export function loadAttachments(q: SqlTx, id: string): Promise<AttachmentFile[]> {
  return q.all<AttachmentFile>('SELECT filename, content_type, size, sha256, content FROM message_attachments WHERE message_id = ? ORDER BY idx', [id]);
}
