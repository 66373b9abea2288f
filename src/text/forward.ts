/**
 * The text of a forwarded message, laid out the way mail clients do (Gmail, Thunderbird, Outlook all use a
 * "Forwarded message" block with the original's From, Date, Subject and To), so the recipient and the reviewer
 * both see at a glance what is the sender's note and what is the original. Pure.
 */
export interface Original {
  from: string;
  date: string;
  subject: string;
  to: readonly string[];
  cc: readonly string[];
  /** The original's visible text (hidden text already removed). */
  text: string;
}

/** "Fwd: " once, however many times the message has been forwarded or replied to. */
export function forwardSubject(subject: string): string {
  return /^\s*(fwd?|tr|wg|rv)\s*:/i.test(subject) ? subject : `Fwd: ${subject}`;
}

export function forwardedText(note: string | undefined, o: Original, inline: boolean): string {
  const head = [
    '---------- Forwarded message ---------',
    `From: ${o.from}`,
    `Date: ${o.date}`,
    `Subject: ${o.subject}`,
    `To: ${o.to.join(', ')}`,
    ...(o.cc.length ? [`Cc: ${o.cc.join(', ')}`] : []),
  ].join('\n');
  const lead = note?.trim() ? `${note.trim()}\n\n` : '';
  // As an attachment, the original travels whole in the .eml; the text only says what is attached.
  return inline ? `${lead}${head}\n\n${o.text}` : `${lead}${head}\n\n(The original message is attached.)`;
}
