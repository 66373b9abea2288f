/**
 * Where a wait for inbound mail stopped, handed to the agent as an opaque string so its next mail_wait call
 * reports only mail after it. IMAP mail is ordered by UID within the folder's UIDVALIDITY (RFC 3501 §2.3.1.1:
 * UIDs grow with arrival), so envelopes a backfill caches later, old mail, never look new; sandbox mail has no
 * UID and is ordered by when the store received it, ties broken by email id.
 */
import * as z from 'zod';
import { invalid } from '../errors.js';
import type { InboundEmail } from '../store/store.js';

export interface WaitCursor {
  /** The mailbox it belongs to: a cursor from another mailbox would silently skip or repeat mail. */
  mb: string;
  /** Sandbox order: received_at and email_id of the last mail passed. */
  t: number;
  id: string;
  /** IMAP order: the folder's UIDVALIDITY and the last UID passed. */
  uv: number | null;
  uid: number;
}

const CursorShape = z.object({
  mb: z.string().max(320),
  t: z.number().int(),
  id: z.string().max(80),
  uv: z.number().int().nullable(),
  uid: z.number().int().min(0),
});

export function encodeCursor(c: WaitCursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(s: string, mailbox: string): WaitCursor {
  let parsed: z.ZodSafeParseResult<WaitCursor>;
  try {
    parsed = CursorShape.safeParse(JSON.parse(Buffer.from(s, 'base64url').toString('utf8')));
  } catch {
    parsed = { success: false } as z.ZodSafeParseResult<WaitCursor>;
  }
  if (!parsed.success) {
    throw invalid('cursor', 'not a cursor from mail_wait; pass next_cursor from the last answer unchanged, or leave it out to wait for mail from now on');
  }
  if (parsed.data.mb !== mailbox) {
    throw invalid('cursor', `this cursor belongs to mailbox ${parsed.data.mb}, not ${mailbox}; pass the mailbox it came from, or leave cursor out`);
  }
  return parsed.data;
}

/** True when the email comes after the cursor in its mailbox's order. */
export function isAfter(e: InboundEmail, c: WaitCursor): boolean {
  if (e.uid !== null) return e.uidvalidity === c.uv && e.uid > c.uid;
  return e.received_at > c.t || (e.received_at === c.t && e.email_id > c.id);
}

/** The cursor just past this email. */
export function cursorAt(c: WaitCursor, e: InboundEmail): WaitCursor {
  return e.uid !== null ? { ...c, uv: e.uidvalidity, uid: e.uid } : { ...c, t: e.received_at, id: e.email_id };
}

/** Oldest first, in the order cursors compare. */
export function byArrival(a: InboundEmail, b: InboundEmail): number {
  if (a.uid !== null && b.uid !== null) return a.uid - b.uid;
  return a.received_at - b.received_at || (a.email_id < b.email_id ? -1 : a.email_id > b.email_id ? 1 : 0);
}
